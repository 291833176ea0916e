"""Django settings both services share; each service's settings module adds its own.

Deliberately small: one app (the lab's own per-process set-up), no database, one
middleware. Everything Django runs per request shows up in the timings, so nothing is
here that the lab does not measure.
"""

import secrets

from . import logs, signals
from .config import env

# Never in the repo: from the environment, or a fresh one per process (the lab signs
# nothing that must survive a restart or be shared between workers).
SECRET_KEY = env("DJANGO_SECRET_KEY", "") or secrets.token_urlsafe(50)
DEBUG = env("DJANGO_DEBUG", False)
ALLOWED_HOSTS = [
    host.strip()
    for host in env("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],backend,gateway").split(",")
    if host.strip()
]

INSTALLED_APPS = ["asynclab.apps.LabConfig"]
DATABASES: dict = {}
MIDDLEWARE = ["asynclab.middleware.timing_middleware"]
USE_TZ = True
TIME_ZONE = "UTC"

LOG_LEVEL = env("LOG_LEVEL", "INFO", str.upper, choices=("DEBUG", "INFO", "WARNING", "ERROR"))
LOGGING = logs.config(LOG_LEVEL)

# auto: detach Django's database receivers from request signals when there is no database
# (see asynclab/signals.py for what they cost under ASGI); on: Django as shipped.
DB_SIGNALS = env("DB_SIGNALS", "auto", str.lower, choices=signals.CHOICES)

# on: Django 3.1's ASGI threading, every sync view of a process on one thread (ASGI only;
# asynclab/legacy.py). Off by default: for reproducing the article, not for measuring.
DJANGO31_THREADS = env("DJANGO31_THREADS", False)
