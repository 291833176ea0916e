"""The hop counter: imported at start-up by every Python process whose PYTHONPATH begins
with this folder, which only bench/asgi_tax.py sets (never the lab's own code path).

With ASGI_TAX_HOPS_DIR set it counts, per process, every sync_to_async and async_to_sync
call (by the function it adapts, and sync_to_async's thread_sensitive flag) and every
thread started (by its target), and rewrites <dir>/<pid>.json after each one, so the
bench can read the counts of a live server between two requests. Without the variable
it does nothing.
"""

import json
import os
import threading

FOLDER = os.environ.get("ASGI_TAX_HOPS_DIR", "")


def _name(func) -> str:
    func = getattr(func, "func", func)  # functools.partial
    owner = getattr(func, "__self__", None)
    qualname = getattr(func, "__qualname__", None) or type(func).__qualname__
    if owner is not None and "." not in qualname:
        qualname = f"{type(owner).__qualname__}.{qualname}"
    return f"{getattr(func, '__module__', '?')}.{qualname}"


def _install(folder: str) -> None:
    from asgiref import sync

    lock = threading.Lock()
    counts: dict[str, dict[str, int]] = {"sync_to_async": {}, "async_to_sync": {}, "threads": {}}
    path = os.path.join(folder, f"{os.getpid()}.json")

    def count(kind: str, key: str) -> None:
        with lock:
            nonlocal path
            path = os.path.join(folder, f"{os.getpid()}.json")  # a forked worker writes its own
            table = counts[kind]
            table[key] = table.get(key, 0) + 1
            temporary = f"{path}.tmp"
            with open(temporary, "w") as out:
                json.dump({"pid": os.getpid(), **counts}, out)
            os.replace(temporary, path)

    sync_call = sync.SyncToAsync.__call__
    async_call = sync.AsyncToSync.__call__
    start = threading.Thread.start

    async def counted_sync_to_async(self, *args, **kwargs):
        mode = "thread_sensitive" if self._thread_sensitive else "executor"
        count("sync_to_async", f"{_name(self.func)} [{mode}]")
        return await sync_call(self, *args, **kwargs)

    def counted_async_to_sync(self, *args, **kwargs):
        count("async_to_sync", _name(self.awaitable))
        return async_call(self, *args, **kwargs)

    def counted_start(self):
        target = getattr(self, "_target", None)
        count("threads", _name(target) if target is not None else type(self).__qualname__)
        return start(self)

    sync.SyncToAsync.__call__ = counted_sync_to_async
    sync.AsyncToSync.__call__ = counted_async_to_sync
    threading.Thread.start = counted_start


if FOLDER:
    _install(FOLDER)
