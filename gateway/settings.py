from asynclab.knobs import read
from asynclab.servers import ServerConfig
from asynclab.settings import *  # noqa: F403

SERVICE = "gateway"
SERVER = ServerConfig.from_env(SERVICE)
ROOT_URLCONF = "gateway.urls"
# runserver loads the app from here too, so it warms up like the other servers.
WSGI_APPLICATION = "gateway.wsgi.application"
# Paid at start, after the URLconf (asynclab/warmup.py): what the first sync fan-out built.
WARMUP = ["gateway.clients.warm"]

# The knobs' defaults, ranges and meanings: asynclab/knobs/ (docs/knobs.md).

# The only place the gateway ever sends requests: never anything a client says (no SSRF).
BACKEND_URL = read("BACKEND_URL")
BACKEND_MAX_DELAY = read("BACKEND_MAX_DELAY")
GATEWAY_MAX_FANOUT = read("GATEWAY_MAX_FANOUT")
GATEWAY_MAX_TIMEOUT = read("GATEWAY_MAX_TIMEOUT")
# httpx's own default (at most GATEWAY_MAX_TIMEOUT); the article's "timeout" results depend on it being 5 s.
GATEWAY_TIMEOUT = read("GATEWAY_TIMEOUT")
# The article's ThreadPoolExecutor(max_workers=10).
GATEWAY_POOL_SIZE = read("GATEWAY_POOL_SIZE")
# The whole fan-out's deadline: longer than the article's 10 sequential calls of 1 s.
GATEWAY_MAX_DEADLINE = read("GATEWAY_MAX_DEADLINE")
GATEWAY_DEADLINE = read("GATEWAY_DEADLINE")
# Backend calls in flight in one gateway process, over every aggregation; a fan-out that
# does not fit is refused with 503 at once. At least the largest fan-out, or none would fit.
GATEWAY_MAX_CALLS = read("GATEWAY_MAX_CALLS")
# client= default: auto = aiohttp for gather, httpx.get with one TLS context for the sync views.
GATEWAY_CLIENT = read("GATEWAY_CLIENT")
