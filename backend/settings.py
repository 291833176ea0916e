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

# Chat rooms over WebSocket (backend/chat.py, docs/chat.md): Channels' layer and the bounds.
CHANNEL_LAYER = read("CHANNEL_LAYER")
CHAT_CHANNEL_CAPACITY = read("CHAT_CHANNEL_CAPACITY")
CHAT_MAX_FRAME = read("CHAT_MAX_FRAME")
CHAT_MEMBER_RATE = read("CHAT_MEMBER_RATE")
CHAT_ROOM_MEMBERS = read("CHAT_ROOM_MEMBERS")
CHAT_MAX_MEMBERS = read("CHAT_MAX_MEMBERS")
REDIS_HOST = read("REDIS_HOST")
REDIS_PORT = read("REDIS_PORT")
# channels_redis waits for a member's messages with BZPOPMIN for 5 s at a time, and redis-py
# (since 6) gives up reading a socket after 5 s too: the two met, the read timed out, and the
# member whose task ran the worker's receive loop was closed (1006 or 1011) with its messages
# unsent, once per worker whenever its inbox stayed empty 5 s (make chat's 5 s of connects).
# Reads wait past the BZPOPMIN. redis-py's pool refuses a connection past max_connections
# (100 by default) rather than wait: a room's members all leaving at once each take one.
REDIS_SOCKET_TIMEOUT = 30.0
REDIS_MAX_CONNECTIONS = 1000
CHANNEL_LAYERS = {
    "default": (
        {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "host": REDIS_HOST,
                        "port": REDIS_PORT,
                        "socket_timeout": REDIS_SOCKET_TIMEOUT,
                        "max_connections": REDIS_MAX_CONNECTIONS,
                    }
                ],
                "capacity": CHAT_CHANNEL_CAPACITY,
            },
        }
        if CHANNEL_LAYER == "redis"
        # Channels' in-memory layer, counting what it drops for a full member (backend/chat.py).
        else {"BACKEND": "backend.chat.CountingLayer", "CONFIG": {"capacity": CHAT_CHANNEL_CAPACITY}}
    )
}
