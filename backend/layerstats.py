"""The Redis channel layer's server as Redis itself counts it (CHANNEL_LAYER=redis), for
/chat: `loadgen chat` sets Redis's CPU and memory beside the backend's, since with that
layer every group_send is work Redis does for the room, in a process the backend's
/telemetry cannot see.

Redis's INFO (cumulative CPU seconds, memory in use and its peak, clients), read on demand
with short timeouts: an unreachable Redis reads as an error, never a stalled /chat.
"""

from __future__ import annotations

from django.conf import settings

TIMEOUT = 2.0
_client = None


def redis() -> dict | None:
    """Redis's counters, None with the in-memory layer, {"error": ...} when Redis does not answer."""
    if settings.CHANNEL_LAYER != "redis":
        return None
    # Imported here: redis-py is a dependency of the Redis layer only.
    import redis as redis_py

    global _client
    if _client is None:
        _client = redis_py.Redis(
            host=settings.REDIS_HOST, port=settings.REDIS_PORT, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT
        )
    try:
        info = _client.info()
    except redis_py.RedisError as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {
        "version": info.get("redis_version"),
        "cpu_seconds": float(info["used_cpu_sys"]) + float(info["used_cpu_user"]),
        "memory_bytes": int(info["used_memory"]),
        "memory_peak_bytes": int(info["used_memory_peak"]),
        "clients": int(info["connected_clients"]),
    }
