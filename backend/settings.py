from asynclab.knobs import read
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

# How long an /api/ call sleeps when the caller does not say, and the most it may ask for
# (defaults, ranges and meanings: asynclab/knobs/, docs/knobs.md).
BACKEND_MAX_DELAY = read("BACKEND_MAX_DELAY")
BACKEND_DELAY = read("BACKEND_DELAY")

# Fault injection defaults (see backend/faults.py): shares of calls 0..1, jitter in seconds.
BACKEND_FAIL_RATE = read("BACKEND_FAIL_RATE")
BACKEND_HANG_RATE = read("BACKEND_HANG_RATE")
BACKEND_INVALID_RATE = read("BACKEND_INVALID_RATE")
BACKEND_DROP_RATE = read("BACKEND_DROP_RATE")
BACKEND_JITTER = read("BACKEND_JITTER")
