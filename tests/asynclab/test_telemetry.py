"""Telemetry's pure parts: rolling peaks and how workers add up to a service."""

import os
import threading

from asynclab import telemetry
from asynclab.telemetry import Peak


def test_a_peak_remembers_the_last_one_to_two_seconds_and_forever():
    peak = Peak()
    peak.observe(5, now=100.2)
    peak.observe(3, now=100.9)
    assert (peak.recent(now=100.9), peak.ever) == (5, 5)
    peak.observe(2, now=101.1)
    assert peak.recent(now=101.5) == 5  # the previous second still counts
    assert peak.recent(now=102.0) == 2  # 100.x has rolled out
    assert peak.recent(now=103.0) == 0
    peak.observe(1, now=110.0)  # after a gap nothing old comes back
    assert (peak.recent(now=110.0), peak.ever) == (1, 5)


def snapshot(pid, threads, rss, cpu, in_flight, requests, lag=None):
    def parts(now, peak):
        return {"now": now, "peak": peak, "recent_peak": peak}

    return {
        "pid": pid,
        "threads": parts(threads, threads + 2),
        "rss_bytes": parts(rss, rss + 10),
        "cpu_seconds": cpu,
        "in_flight": parts(in_flight, in_flight + 1),
        "requests": requests,
        "loop_lag_ms": lag,
    }


def test_a_service_is_the_sum_of_its_workers_and_master():
    workers = [
        snapshot(10, 12, 1000, 1.5, 3, 40, {"last": 1.0, "recent_max": 4.0, "max": 9.0}),
        snapshot(11, 8, 500, 0.5, 0, 60, {"last": 2.0, "recent_max": 3.0, "max": 5.0}),
    ]
    master = {"pid": 1, "threads": 1, "rss_bytes": 100, "cpu_seconds": 0.25}
    total = telemetry.combine(workers, master)
    assert total["processes"] == 3 and total["workers"] == 2
    assert total["threads"] == {"now": 21, "peak": 25, "recent_peak": 25}
    assert total["rss_bytes"] == {"now": 1600, "peak": 1620, "recent_peak": 1620}
    assert total["cpu_seconds"] == 2.25
    assert total["in_flight"] == {"now": 3, "peak": 5, "recent_peak": 5}
    assert total["requests"] == 100
    assert total["loop_lag_ms"] == {"last": 2.0, "recent_max": 4.0, "max": 9.0}


def test_garbage_collection_is_summed_over_the_workers():
    workers = [snapshot(10, 1, 1, 0.1, 0, 1), snapshot(11, 1, 1, 0.1, 0, 1)]
    workers[0]["gc"] = {"seconds": 0.5, "collections": [10, 2, 1]}
    workers[1]["gc"] = {"seconds": 0.25, "collections": [5, 1, 0]}
    assert telemetry.combine(workers)["gc"] == {"seconds": 0.75, "collections": [15, 3, 1]}


def test_a_live_worker_publishes_its_collections(serve):
    backend = serve("backend", "asgi")
    for _ in range(20):
        backend.get("/api/?delay=0")
    total = backend.get("/telemetry")[1]["total"]
    assert len(total["gc"]["collections"]) == 3 and total["gc"]["collections"][0] > 0


def test_wsgi_workers_have_no_loop_lag():
    assert telemetry.combine([snapshot(10, 1, 1, 0, 0, 0)])["loop_lag_ms"] is None


def test_in_flight_counting_is_safe_across_threads():
    worker = telemetry.Worker()

    def hammer():
        for _ in range(2000):
            worker.enter()
            worker.leave()

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (worker.in_flight, worker.requests) == (0, 16000)
    assert 1 <= worker.in_flight_peak.ever <= 8


def test_this_process_reads_its_own_threads_and_memory():
    assert telemetry.threads_of() >= threading.active_count()
    assert telemetry.rss_of() > 10_000_000
    assert telemetry.cpu_of(os.getpid()) > 0
