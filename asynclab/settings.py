"""Django settings both services share; each service's settings module adds its own.

Deliberately small: one app (the lab's own per-process set-up), no database, one
middleware. Everything Django runs per request shows up in the timings, so nothing is
here that the lab does not measure.
"""

import secrets

from . import logs
from .knobs import read

# Never in the repo: from the environment, or a fresh one per process (the lab signs
# nothing that must survive a restart or be shared between workers).
SECRET_KEY = read("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50)
DEBUG = read("DJANGO_DEBUG")
ALLOWED_HOSTS = [host.strip() for host in read("ALLOWED_HOSTS").split(",") if host.strip()]

INSTALLED_APPS = ["asynclab.apps.LabConfig"]
DATABASES: dict = {}
MIDDLEWARE = ["asynclab.middleware.timing_middleware"]
USE_TZ = True
TIME_ZONE = "UTC"

LOG_LEVEL = read("LOG_LEVEL")
LOGGING = logs.config(LOG_LEVEL)

# auto: detach Django's database receivers from request signals when there is no database
# (see asynclab/dbsignals.py for what they cost under ASGI); on: Django as shipped.
DB_SIGNALS = read("DB_SIGNALS")

# true: under ASGI, the lab's handler skips the thread hops Django makes per request but does
# not need (asynclab/handler.py, docs/asgi-tax.md). Off by default: the lab measures Django
# as shipped.
LEAN = read("LEAN")

# on: Django 3.1's ASGI threading, every sync view of a process on one thread (ASGI only;
# asynclab/django31.py). Off by default: for reproducing the article, not for measuring.
DJANGO31_THREADS = read("DJANGO31_THREADS")
