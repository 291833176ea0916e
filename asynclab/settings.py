"""Django settings both services share; each service's settings module adds its own.

Deliberately small: no apps, no database, one middleware. Everything Django runs per
request shows up in the timings, so nothing is here that the lab does not measure.
"""

import secrets

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

INSTALLED_APPS: list[str] = []
DATABASES: dict = {}
MIDDLEWARE = ["asynclab.middleware.timing_middleware"]
USE_TZ = True
TIME_ZONE = "UTC"

LOG_LEVEL = env("LOG_LEVEL", "INFO", str.upper, choices=("DEBUG", "INFO", "WARNING", "ERROR"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # httpx logs every request at INFO: n lines per aggregation would bury everything else.
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}
