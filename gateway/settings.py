from urllib.parse import urlsplit

from asynclab.config import env
from asynclab.servers import ServerConfig
from asynclab.settings import *  # noqa: F403

SERVICE = "gateway"
SERVER = ServerConfig.from_env(SERVICE)
ROOT_URLCONF = "gateway.urls"
# runserver loads the app from here too, so it warms up like the other servers.
WSGI_APPLICATION = "gateway.wsgi.application"
# Paid at start, after the URLconf (asynclab/warmup.py): what the first sync fan-out built.
WARMUP = ["gateway.clients.warm"]


def _base_url(text: str) -> str:
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError("expected a base URL like http://backend:8000")
    return text.strip().rstrip("/")


# The only place the gateway ever sends requests: never anything a client says (no SSRF).
BACKEND_URL = env("BACKEND_URL", "http://backend:8000", _base_url)
BACKEND_MAX_DELAY = env("BACKEND_MAX_DELAY", 30.0, low=0, high=3600)
GATEWAY_MAX_FANOUT = env("GATEWAY_MAX_FANOUT", 100, low=1, high=1000)
GATEWAY_MAX_TIMEOUT = env("GATEWAY_MAX_TIMEOUT", 60.0, low=0.01, high=3600)
# httpx's own default; the article's "timeout" results depend on it being 5 s.
GATEWAY_TIMEOUT = env("GATEWAY_TIMEOUT", min(5.0, GATEWAY_MAX_TIMEOUT), low=0.01, high=GATEWAY_MAX_TIMEOUT)
# The article's ThreadPoolExecutor(max_workers=10).
GATEWAY_POOL_SIZE = env("GATEWAY_POOL_SIZE", 10, low=1, high=1000)
# The whole fan-out's deadline: longer than the article's 10 sequential calls of 1 s.
GATEWAY_MAX_DEADLINE = env("GATEWAY_MAX_DEADLINE", 60.0, low=0.01, high=3600)
GATEWAY_DEADLINE = env("GATEWAY_DEADLINE", min(30.0, GATEWAY_MAX_DEADLINE), low=0.01, high=GATEWAY_MAX_DEADLINE)
# Backend calls in flight in one gateway process, over every aggregation; a fan-out that
# does not fit is refused with 503 at once. At least the largest fan-out, or none would fit.
GATEWAY_MAX_CALLS = env("GATEWAY_MAX_CALLS", 1000, low=GATEWAY_MAX_FANOUT, high=100_000)
# client= default: auto = aiohttp for gather, httpx.get with one TLS context for the sync views.
GATEWAY_CLIENT = env("GATEWAY_CLIENT", "auto", str.lower, choices=("auto", "article", "context", "shared", "aiohttp"))
