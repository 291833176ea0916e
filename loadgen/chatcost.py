"""What a chat run cost the server side (loadgen/experiments/chat.py): the backend's threads
and memory per member and CPU per delivery, from its /telemetry, and, with the Redis layer,
Redis's CPU and memory from its own counters (the backend's /chat reads Redis's INFO).
Pure functions of the figures, so they are tested without a server."""

from __future__ import annotations


def backend(seen: dict | None, sending: dict | None, members: int, delivered: int) -> dict | None:
    """The backend's threads and RSS above idle per member held (over the whole run), and its
    CPU per delivery over the sending window (first send to the end of the grace: no
    connect or close in it)."""
    if not seen:
        return None
    cpu = (sending or {}).get("cpu_seconds")
    return {
        "threads_per_member": (seen["threads_peak"] - seen["threads_idle"]) / members if members else None,
        "rss_bytes_per_member": (seen["rss_peak_bytes"] - seen["rss_idle_bytes"]) / members if members else None,
        "cpu_ms_per_delivery": 1000 * cpu / delivered if cpu and delivered else None,
        "cpu_share_sending": round(cpu / sending["window"], 3) if cpu and sending.get("window") else None,
    }


def redis(before: dict | None, after: dict | None, seconds: float, delivered: int) -> dict | None:
    """Redis's CPU over the run (between /chat read before the first connect and after the
    last close: connects and group joins included) and its memory at the end and at its peak.
    None with the in-memory layer; {"error"} when either read failed."""
    first, last = (before or {}).get("redis"), (after or {}).get("redis")
    if first is None and last is None:
        return None
    if not first or not last or "error" in first or "error" in last:
        return {"error": (last or {}).get("error") or (first or {}).get("error") or "Redis was not read"}
    cpu = last["cpu_seconds"] - first["cpu_seconds"]
    return {
        "version": last.get("version"),
        "cpu_seconds": round(cpu, 3),
        "cpu_share": round(cpu / seconds, 3) if seconds > 0 else None,
        "cpu_ms_per_delivery": 1000 * cpu / delivered if delivered else None,
        "memory_bytes": last["memory_bytes"],
        "memory_growth_bytes": last["memory_bytes"] - first["memory_bytes"],
        "memory_peak_bytes": last["memory_peak_bytes"],
        "clients": last["clients"],
    }
