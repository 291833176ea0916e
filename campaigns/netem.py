"""`make netem`, once compose has started the netem service: whether the delay is really on.
netem.sh logs one `"event": "netem"` line, with the `"qdisc"` it set when it could set one;
this prints that line and, without a qdisc, removes the service and exits 1, so that a
measurement never runs believing in a latency that is not there."""

from __future__ import annotations

import subprocess
import sys
import time

from .stack import compose_command

EVENT = '"event": "netem"'
# netem.sh's first line comes a moment after `up -d` returns.
SETTLE = 1.0


def main() -> int:
    compose = [*compose_command(), "--profile", "netem"]
    time.sleep(SETTLE)
    logs = subprocess.run([*compose, "logs", "--no-color", "netem"], capture_output=True, text=True).stdout
    lines = [line for line in logs.splitlines() if EVENT in line]
    line = lines[-1] if lines else ""
    print(line)
    if '"qdisc"' in line:
        return 0
    subprocess.run([*compose, "rm", "--stop", "--force", "netem"], capture_output=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
