"""campaigns/engine.py: the Docker engine's CPU for the lab, metered on the host, and read
back by loadgen (loadgen/engine_meter.py) over a window."""

import json
import os
import subprocess
import sys
import time

import pytest

from campaigns import engine
from loadgen import engine_meter

TICK = os.sysconf("SC_CLK_TCK")


def stat(pid: int, name: str, utime: int, stime: int) -> str:
    # /proc/<pid>/stat: comm in parentheses (it may hold both), then the fields from state on.
    rest = ["S", "1"] + ["0"] * 9 + [str(utime), str(stime)] + ["0"] * 10
    return f"{pid} ({name}) " + " ".join(rest)


def tree(root, processes: dict[int, tuple[str, int, int]], irq: int = 0, softirq: int = 0):
    for entry in root.iterdir():
        if entry.name.isdigit():
            (entry / "stat").unlink()
            entry.rmdir()
    for pid, (name, utime, stime) in processes.items():
        (root / str(pid)).mkdir()
        (root / str(pid) / "stat").write_text(stat(pid, name, utime, stime))
    (root / "stat").write_text(f"cpu  100 0 50 1000 0 {irq} {softirq} 0 0 0\ncpu0 1 1 1 1 1 1 1 1\n")


def test_a_process_stat_gives_its_name_and_cpu_even_with_parens_in_the_name():
    name, seconds = engine.parse_process(stat(7, "odd (name) x", 3 * TICK, TICK))
    assert name == "odd (name) x" and seconds == pytest.approx(4.0)


def test_the_counter_adds_engine_processes_growth_and_the_kernels_interrupts_only(tmp_path):
    tree(tmp_path, {10: ("dockerd", 100, 0), 11: ("python3", 500, 0)}, irq=5, softirq=10)
    counter = engine.Counter(tmp_path)
    assert counter.read() == 0.0  # the baseline: nothing before it counts
    # dockerd +1 s, python +5 s (a neighbour), a new fuse-overlayfs with 2 s, softirq +0.5 s.
    tree(
        tmp_path,
        {10: ("dockerd", 100 + TICK, 0), 11: ("python3", 500 + 5 * TICK, 0), 12: ("fuse-overlayfs", TICK, TICK)},
        irq=5,
        softirq=10 + TICK // 2,
    )
    assert counter.read() == pytest.approx(3.5)
    # fuse-overlayfs exited: what it used stays counted; dockerd +1 s more.
    tree(tmp_path, {10: ("dockerd", 100 + 2 * TICK, 0)}, irq=5, softirq=10 + TICK // 2)
    assert counter.read() == pytest.approx(4.5)


def test_the_meter_file_is_read_back_by_loadgen_while_fresh_and_removed_at_the_end(tmp_path):
    with engine.Meter(tmp_path, interval=0.05) as meter:
        time.sleep(0.3)
        samples = engine_meter.read(tmp_path)
        assert len(samples) >= 3 and samples == sorted(samples, key=lambda s: s["at"])
        assert not list(tmp_path.glob("*.json")), "a meter file must not pass for a result"
        path = meter.path
    assert not path.exists()
    # A file from an ended campaign (its newest sample old) is not read.
    path.write_text(json.dumps({"samples": [{"at": time.perf_counter() - 60, "cpu_seconds": 1.0}]}))
    assert engine_meter.read(tmp_path) == [] and engine_meter.read(None) == []


def test_a_process_named_as_the_engine_is_metered_and_the_same_work_otherwise_is_not(tmp_path):
    # Real processes on this host: each burns CPU under a name; only the engine's name counts.
    burn = (
        "import sys, time\n"
        "open('/proc/self/comm', 'w').write(sys.argv[1])\n"
        "end = time.process_time() + 0.4\n"
        "while time.process_time() < end: pass\n"
        "print(flush=True); time.sleep(30)\n"
    )
    for name, counted in (("fuse-overlayfs", True), ("neighbour", False)):
        counter = engine.Counter()
        counter.read()
        child = subprocess.Popen([sys.executable, "-c", burn, name], stdout=subprocess.PIPE, text=True)
        try:
            child.stdout.readline()  # burnt
            before = counter.total
            counter.read()
            assert (child.pid in counter.seen) is counted
            if counted:
                assert counter.total - before >= 0.35
        finally:
            child.kill()
            child.wait()
