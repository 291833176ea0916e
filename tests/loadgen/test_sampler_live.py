"""loadgen/sampler.py against a live wsgi backend with one request thread: a telemetry poll
that queues behind a slow request is a late answer, not a lost one, and its reading is
placed when the service took it (its monotonic stamp), not when loadgen sent or got it."""

import asyncio
import threading
import time
import urllib.request

from loadgen.sampler import Sampler


def test_a_poll_queued_behind_a_busy_thread_is_kept_at_the_time_the_service_read_it(serve):
    backend = serve("backend", "wsgi", THREADS="1", WORKERS="1")
    done = {}

    def slow():
        urllib.request.urlopen(f"{backend.url}/api/?delay=3", timeout=30).read()
        done["at"] = time.perf_counter()

    async def sample() -> Sampler:
        async with Sampler({"backend": backend.url}) as sampler:
            await asyncio.sleep(0.5)
            caller = threading.Thread(target=slow)
            caller.start()
            # The one thread is busy for 3 s: every poll from here waits behind it.
            await asyncio.sleep(3.5)
            await asyncio.to_thread(caller.join)
        return sampler

    sampler = asyncio.run(sample())
    stamps = [s["at"] for s in sampler.samples["backend"]]
    # Each reading at the service's own stamp (one kernel, one monotonic clock), in order.
    assert all(s["at"] == s["monotonic"] for s in sampler.samples["backend"])
    assert stamps == sorted(stamps)
    # Before the slow request, polls every quarter second; then one that waited for it, read
    # by the service after the request finished (its stamp), not while it still queued.
    queued = [at for before, at in zip(stamps, stamps[1:], strict=False) if at - before > 2.0]
    assert len(queued) == 1, stamps
    assert queued[0] >= done["at"] - 0.1, (queued, done)
