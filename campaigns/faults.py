"""`make faults`: faults in the middle of a run, each while `loadgen faults` measures errors,
the longest answer, latency and the time to recover (loadgen/experiments/faults.py):

- backend-stopped: the backend stopped and started again;
- worker-killed: one backend worker, then one gateway worker, killed with kill -9 under
  each of FAULT_MODES (two workers each; asynclab/fault.py, run inside the container);
- network-cut: the backend taken off the network it shares with the gateway, then put
  back (campaigns/network.py);
- postgres-restarted: PostgreSQL restarted while loadgen loads a view that queries it,
  with PostgreSQL's own count of connections before and after.

FAULTS picks some (all by default); FAULT_AT is when (seconds after loadgen starts) the
fault strikes, FAULT_FOR how long it lasts where it is mended by hand (stop, cut).

Time: loadgen faults' own duration (~45 s by default) per run, 11 runs, and 7 stacks up
and down: ~15 min.
"""

from __future__ import annotations

from .settings import knob, words
from .stack import Cell, loadgen

HELP = "faults mid-run (backend stopped, a worker killed, network cut, PostgreSQL restarted): errors, recovery"

FAULTS = ("backend-stopped", "worker-killed", "network-cut", "postgres-restarted")
MODES = ("wsgi", "asgi", "gevent", "granian")
# -T: no terminal, as the run goes on while the host acts on the stack.
OPTIONS = ("-T",)


def kill_worker(service: str) -> tuple[str, ...]:
    """kill -9 of the service's busiest worker, from inside its container (asynclab/fault.py)."""
    return ("compose", "exec", "-T", service, "python", "-m", "asynclab.fault", "kill-worker")


def network(action: str) -> tuple[str, ...]:
    # The backend off `internal`, the network it shares with the gateway (and loadgen, whose
    # watch of the backend's /healthz then sees the cut as the gateway does).
    return ("python3", "-m", "campaigns.network", action, "backend", "internal")


def cells() -> list[Cell]:
    at, lasting = float(knob("FAULT_AT", "15")), float(knob("FAULT_FOR", "10"))
    args = words("ARGS", "")
    chosen = words("FAULTS", " ".join(FAULTS))
    unknown = [name for name in chosen if name not in FAULTS]
    if unknown:
        raise SystemExit(f"make faults: unknown fault {unknown[0]!r}: choose from {', '.join(FAULTS)}")
    found = []
    if "backend-stopped" in chosen:
        during = ((at, ("compose", "stop", "backend")), (at + lasting, ("compose", "start", "backend")))
        run = loadgen("faults", *args, options=OPTIONS, during=during)
        found.append(Cell({}, (run,), label="the backend stopped and started"))
    if "worker-killed" in chosen:
        for mode in words("FAULT_MODES", " ".join(MODES)):
            runs = (
                # httpx in the gateway: aiohttp, its auto client, resends a cut call once and hides it.
                loadgen(
                    "faults",
                    "--fault",
                    "backend-worker-killed",
                    "--client",
                    "shared",
                    *args,
                    options=OPTIONS,
                    during=((at, kill_worker("backend")),),
                ),
                loadgen(
                    "faults",
                    "--fault",
                    "gateway-worker-killed",
                    *args,
                    options=OPTIONS,
                    during=((at, kill_worker("gateway")),),
                ),
            )
            found.append(Cell({"SERVER_MODE": mode, "WORKERS": "2"}, runs, label=f"a worker killed, {mode}"))
    if "network-cut" in chosen:
        during = ((at, network("disconnect")), (at + lasting, network("connect")))
        run = loadgen("faults", "--fault", "network-cut", *args, options=OPTIONS, during=during)
        found.append(Cell({}, (run,), label="the backend cut off the gateway's network"))
    if "postgres-restarted" in chosen:
        during = ((at, ("compose", "restart", "postgres")),)
        run = loadgen(
            "faults", "--fault", "postgres-restarted", "--target", "db", *args, options=OPTIONS, during=during
        )
        found.append(Cell({"DB": "postgres", "DB_POOL": "false"}, (run,), label="PostgreSQL restarted"))
    return found
