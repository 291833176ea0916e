"""collector: the time and count of real garbage collections, per process."""

import gc
import os

from asynclab import collector


def test_a_forced_collection_is_counted_with_its_time():
    mine = collector.install(os.getpid())
    # No automatic collection meanwhile (20,000 new cycles may trigger one, depending on what
    # the session allocated before): the forced one is then the only one to count.
    automatic = gc.isenabled()
    gc.disable()
    try:
        before = mine.snapshot()
        # Cycles the collector must find: a full collection walks them.
        for _ in range(20_000):
            a = []
            a.append(a)
        gc.collect()
        after = mine.snapshot()
    finally:
        if automatic:
            gc.enable()
    assert after["collections"][2] == before["collections"][2] + 1
    assert after["seconds"] > before["seconds"]


def test_installing_twice_in_one_process_keeps_one_callback():
    first = collector.install(os.getpid())
    assert collector.install(os.getpid()) is first
    assert sum(isinstance(c, collector.Collector) for c in gc.callbacks) == 1


def test_a_collection_that_starts_inside_a_snapshot_does_not_deadlock():
    # With a threshold of 1 nearly every allocation collects, so collections start inside
    # snapshot() itself: a callback that took a lock snapshot() holds would hang forever.
    import threading

    mine = collector.install(os.getpid())
    done = threading.Event()

    def snapshots():
        for _ in range(2_000):
            mine.snapshot()
        done.set()

    old = gc.get_threshold()
    gc.set_threshold(1)
    try:
        worker = threading.Thread(target=snapshots, daemon=True)
        worker.start()
        worker.join(60)
    finally:
        gc.set_threshold(*old)
    assert done.is_set()
