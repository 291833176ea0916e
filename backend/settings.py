from asynclab.config import env
from asynclab.servers import ServerConfig
from asynclab.settings import *  # noqa: F403

SERVICE = "backend"
SERVER = ServerConfig.from_env(SERVICE)
ROOT_URLCONF = "backend.urls"

# How long an /api/ call sleeps when the caller does not say, and the most it may ask for.
BACKEND_MAX_DELAY = env("BACKEND_MAX_DELAY", 30.0, low=0, high=3600)
BACKEND_DELAY = env("BACKEND_DELAY", 1.0, low=0, high=BACKEND_MAX_DELAY)
