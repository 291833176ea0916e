"""Run inside a PYTHON image by bench/constants.py: each loop's CPU per thread, one thread
alone then two at once. Standard library only."""

import sys
import threading
import time

# Each loop's body, in a function f(n) of `v` and the loop variable `s`.
BODIES = {
    "large int constant (& 0xFFFFFFFF)": ("v = 0", "v = (v * 31 + s) & 0xFFFFFFFF"),
    "the same constant in a local": ("v, m = 0, 0xFFFFFFFF", "v = (v * 31 + s) & m"),
    "small constants only (/api/cpu)": ("v = 0", "v = (v * 31 + s) & 255"),
    "loop alone": ("v = 0", "pass"),
}
LOOPS = {
    label: f"def f(n):\n {before}\n for s in range(n):\n  {body}\n return v\n"
    for label, (before, body) in BODIES.items()
}


def timed(f, n: int, threads: int) -> tuple[float, float]:
    """(wall seconds, the slowest thread's CPU seconds)."""
    cpu = [0.0] * threads

    def one(i: int) -> None:
        start = time.thread_time()
        f(n)
        cpu[i] = time.thread_time() - start

    workers = [threading.Thread(target=one, args=(i,)) for i in range(threads)]
    start = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.monotonic() - start, max(cpu)


def ratio(two: float, one: float) -> str:
    # A clock that did not tick for one thread (too few iterations) gives no ratio.
    return f"{two / one:.2f}" if one > 0 else "-"


def main() -> None:
    n = int(sys.argv[1])
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    print(f"Python {sys.version.split()[0]}, GIL {'on' if gil else 'off'}; {n:,} iterations a thread")
    print(f"{'loop':36s} {'1 thread':>18s} {'2 threads':>18s} {'CPU x':>6s} {'wall x':>7s}")
    for label, source in LOOPS.items():
        scope: dict = {}
        # compile(), as an import does: the constants are the code object's own.
        exec(compile(source, label, "exec"), scope)
        one_wall, one_cpu = timed(scope["f"], n, 1)
        two_wall, two_cpu = timed(scope["f"], n, 2)
        print(
            f"{label:36s} {one_cpu:7.3f} s CPU {one_wall:5.2f} s {two_cpu:7.3f} s CPU {two_wall:5.2f} s"
            f" {ratio(two_cpu, one_cpu):>6s} {ratio(two_wall, one_wall):>7s}",
            flush=True,
        )


if __name__ == "__main__":
    main()
