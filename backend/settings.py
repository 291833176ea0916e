from asynclab.config import env
from asynclab.servers import ServerConfig
from asynclab.settings import *  # noqa: F403
from asynclab.settings import INSTALLED_APPS

from . import database

SERVICE = "backend"
SERVER = ServerConfig.from_env(SERVICE)
ROOT_URLCONF = "backend.urls"
# runserver loads the app from here too, so it warms up like the other servers.
WSGI_APPLICATION = "backend.wsgi.application"
# The backend alone has a database (backend/database.py: DB=sqlite|postgres); the gateway
# has none, so Django's database receivers stay detached there (DB_SIGNALS=auto).
INSTALLED_APPS = [*INSTALLED_APPS, "backend.apps.BackendConfig"]
DATABASES = database.databases()

# How long an /api/ call sleeps when the caller does not say, and the most it may ask for.
BACKEND_MAX_DELAY = env("BACKEND_MAX_DELAY", 30.0, low=0, high=3600)
BACKEND_DELAY = env("BACKEND_DELAY", min(1.0, BACKEND_MAX_DELAY), low=0, high=BACKEND_MAX_DELAY)

# Fault injection defaults (see backend/faults.py): shares of calls 0..1, jitter in seconds.
BACKEND_FAIL_RATE = env("BACKEND_FAIL_RATE", 0.0, low=0, high=1)
BACKEND_HANG_RATE = env("BACKEND_HANG_RATE", 0.0, low=0, high=1)
BACKEND_INVALID_RATE = env("BACKEND_INVALID_RATE", 0.0, low=0, high=1)
BACKEND_DROP_RATE = env("BACKEND_DROP_RATE", 0.0, low=0, high=1)
BACKEND_JITTER = env("BACKEND_JITTER", 0.0, low=0, high=BACKEND_MAX_DELAY)
