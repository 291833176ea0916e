"""The lab's HTTP API as names and paths: the one list the gateway, loadgen and the tests
import (loadgen may import the common package, never a service).

The gateway's URLconf, strategy and client registries are built from these names, and a
test checks that every name here has its implementation there.
"""

from __future__ import annotations

# Gateway: aggregation strategy -> path. The article's three first, then async_to_sync.
STRATEGIES: dict[str, str] = {
    "gather": "/api/aggregated/",
    "sequential": "/api/aggregated/sync/",
    "threadpool": "/api/aggregated/threadpool/",
    "async-to-sync": "/api/aggregated/async-to-sync/",
}
ARTICLE_STRATEGIES = ("gather", "sequential", "threadpool")

# Backend: view -> path. The article's slow views, then the same wait spent in a database.
BACKEND_VIEWS: dict[str, str] = {
    "sync": "/api/",
    "async": "/api/async/",
    "db": "/api/db/",
    "db-async": "/api/db/async/",
    "db-adapter": "/api/db/adapter/",
}

# Backend: pure-Python CPU work on a server thread, `?ms=` (backend/cpu.py). Not a gateway
# target: it takes `ms`, not the slow views' `delay`.
BACKEND_CPU = "/api/cpu/"

# Gateway `target=`: which backend view every call hits, and any query it always gets. The
# base URL is never the client's (no SSRF).
TARGETS: dict[str, tuple[str, dict[str, str]]] = {
    **{name: (path, {}) for name, path in BACKEND_VIEWS.items()},
    # sync_to_async(thread_sensitive=False): the ORM on the event loop's default executor.
    "db-adapter-executor": (BACKEND_VIEWS["db-adapter"], {"thread_sensitive": "false"}),
}
ARTICLE_TARGETS = ("sync", "async")
DB_TARGETS = ("db", "db-async", "db-adapter", "db-adapter-executor")

# Server-sent event streams (docs/streams.md): the backend's, view -> path (an async
# generator and a sync one), the gateway's aggregation as a stream, and the gauge of open
# streams each service keeps (asynclab/streams.py).
BACKEND_STREAMS: dict[str, str] = {"async": "/api/stream/", "sync": "/api/stream/sync/"}
GATEWAY_STREAM = "/api/aggregated/stream/"
STREAMS_GAUGE = "/streams"

# Gateway `client=`: the HTTP client a fan-out uses; auto picks per kind of view.
CLIENTS = ("article", "context", "shared", "aiohttp")
CLIENT_CHOICES = ("auto", *CLIENTS)

# Chat rooms over WebSocket (docs/chat.md; the wire format: asynclab/chat.py), and the
# backend's gauge of members and frames per process.
CHAT_ROOMS = "/ws/rooms/"
CHAT_GAUGE = "/chat"
