"""bench/constants.py's child, on the host's interpreter with a short loop: it runs every loop
in one thread and in two and prints a row each (what the bench reads on 3.14 and 3.14t). It
checks the bench runs and says what it measured, not any speed."""

import subprocess
import sys
from pathlib import Path

CHILD = Path(__file__).resolve().parent.parent / "bench" / "constants_child.py"


def test_the_constants_bench_prints_each_loop_with_one_and_two_threads():
    sys.path.insert(0, str(CHILD.parent))
    try:
        import constants_child
    finally:
        sys.path.remove(str(CHILD.parent))
    done = subprocess.run([sys.executable, str(CHILD), "20000"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "20,000 iterations a thread" in lines[0] and "GIL" in lines[0]
    for label in constants_child.LOOPS:
        (row,) = [line for line in lines if line.startswith(label)]
        # CPU and wall, one thread then two, then the two ratios.
        figures = row[len(label) :].split()
        assert figures.count("s") == 4 and figures.count("CPU") == 2 and len(figures) == 12, row
