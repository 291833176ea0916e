"""`article`: the article's table (strategy x backend view, one request at a time), each
cell with a verdict on whether the article's claim still holds under this SERVER_MODE."""

from __future__ import annotations

from asynclab.api import ARTICLE_STRATEGIES, ARTICLE_TARGETS

from ..lab import Lab, aggregation_url, measure
from ..options import aggregation, arguments, choices, option, positive
from ..plan import Plan
from ..probe import environment

HELP = "the article's table for the running SERVER_MODE (default)"

# What the article says for each (strategy, backend view), by server mode.
# "one": about one delay; "serial": at least n delays; "timeout": calls time out.
ARTICLE_CLAIMS = {
    ("gather", "sync"): {
        "asgi": ("timeout", "uvicorn runs the sync views on one thread: their sleeps pile up and calls time out"),
        None: ("one", "about one delay: the calls overlap"),
    },
    ("gather", "async"): {None: ("one", "about one delay: async all the way down")},
    ("sequential", "sync"): {None: ("serial", "at least n x delay: one call after another")},
    ("sequential", "async"): {None: ("serial", "at least n x delay: one call after another")},
    ("threadpool", "sync"): {None: ("one", "a thread pool is probably sufficient: about one delay")},
    ("threadpool", "async"): {None: ("one", "a thread pool is probably sufficient: about one delay")},
}

# The rules each claim is held to (docs/findings.md, "The article's claims, as rules"):
# - "one" (the calls overlap): median < delay + max(delay / 2, OVERHEAD) and, for n > 1,
#   median < n x delay, what any run of the calls one after another takes at least. The
#   allowance is the gateway's own fixed costs (clients, threads), which do not shrink with
#   the delay; never so wide that 2.45 s for 10 calls of 1 s, or a sequential 0.62 s for 3
#   calls of 0.2 s, passes for overlapping calls.
# - "serial": median >= n x delay.
# - "timeout": at least one call timed out (the gateway lists each failed call's kind);
#   calls that failed otherwise (a 500, a refused connection) are not the article's timeout.
OVERHEAD = 0.25

# Why a claim no longer holds, where the lab knows: an explanation, not a measurement, and
# shown as one beside the figure that was measured.
EXPLANATIONS = {
    ("timeout", "asgi"): "since Django 4.0 each ASGI request runs its sync view on its own thread "
    "(3.1 and 3.2 ran them all on one), so the sleeps overlap instead of piling up; "
    "DJANGO31_THREADS=on brings 3.1's behaviour back",
}


def overlap_limit(n: int, delay: float) -> float:
    """The median under which n calls of `delay` count as overlapping ("about one delay")."""
    limit = delay + max(delay / 2, OVERHEAD)
    return min(limit, n * delay) if n > 1 else limit


def options(parser) -> None:
    aggregation(parser, fanout=10, delay=1.0)
    option(parser, "--repeat", env="LOADGEN_REPEAT", default=3, type=positive(int), help="measured requests per cell")
    option(
        parser,
        "--strategies",
        env="LOADGEN_STRATEGIES",
        default=ARTICLE_STRATEGIES,
        type=choices(ARTICLE_STRATEGIES),
        help="the article's own",
    )
    option(
        parser,
        "--targets",
        env="LOADGEN_TARGETS",
        default=ARTICLE_TARGETS,
        type=choices(ARTICLE_TARGETS),
        help="backend views",
    )


async def command(args, lab: Lab) -> dict:
    # allow_errors is for experiments built on this one (servers), never a user's flag.
    return await run(lab, **arguments(args, run, without=("allow_errors",)))


def claim(strategy: str, target: str, mode: str | None) -> tuple[str, str]:
    claims = ARTICLE_CLAIMS[(strategy, target)]
    return claims.get(mode) or claims[None]


def verdict(
    expected: str,
    median: float | None,
    failed: dict[str, int],
    n: int,
    delay: float,
    mode: str | None,
    threads: str | None = None,
    cpu: str | None = None,
) -> tuple[bool, str, str | None]:
    """(matches, what was measured, an explanation or None) for a cell against the claim.
    `failed` counts what failed by kind: the calls the gateway listed ("timeout", "status",
    ...) and the requests that failed whole (an HTTP status, a transport failure). `threads`
    is the measured line on the backend's threads, when the explanation rests on it; `cpu`
    the gateway's CPU per aggregation, the other cost that can add to one delay."""
    failures = ", ".join(f"{kind} x{count}" for kind, count in sorted(failed.items()) if count)
    if expected == "timeout":
        if failed.get("timeout"):
            return True, f"{failed['timeout']} calls timed out ({failures}), as the article says", None
        measured = f"calls failed, none by timing out ({failures})" if failures else "no call timed out"
        if threads:
            measured += f"; {threads}"
        return False, measured, EXPLANATIONS.get(("timeout", mode))
    if median is None or failures:
        return False, f"failures ({failures or 'no answer'}): the claim assumed none", None
    if expected == "one":
        limit = overlap_limit(n, delay)
        if median < limit:
            return True, f"{median / delay:.2f} x the delay, under {limit:.2f} s: the calls overlap", None
        # The rule sees only the median: whether the calls overlapped late, or the gateway
        # spent the extra time computing, is for a measured figure to say, never assumed.
        measured = f"{median / delay:.2f} x the delay, not under {limit:.2f} s"
        return False, measured + (f"; {cpu}" if cpu else ""), None
    if median >= n * delay:
        extra = median - n * delay
        return True, f"{n} x {delay:g} s + {extra:.2f} s (client set-up per call, among other costs)", None
    return False, f"under {n} x {delay:g} s: the calls overlapped", None


def threads_line(figures: dict) -> str | None:
    """The backend's threads beside the calls it held, from its telemetry over the cell."""
    seen = (figures.get("services") or {}).get("backend") or {}
    peak, idle, held = seen.get("threads_peak"), seen.get("threads_idle"), seen.get("in_flight_peak")
    if peak is None or idle is None or held is None:
        return None
    return f"measured: the backend went from {idle} to {peak} threads while it held {held} calls at once"


def cpu_line(figures: dict) -> str | None:
    """The gateway's CPU per aggregation over the cell, from its telemetry."""
    seen = (figures.get("services") or {}).get("gateway") or {}
    if seen.get("cpu_ms_per_request") is None:
        return None
    return f"measured: the gateway spent {seen['cpu_ms_per_request']:.0f} ms of CPU per aggregation"


def failed_by_kind(figures: dict) -> dict[str, int]:
    """Calls the gateway listed as failed, and whole requests that failed, by kind."""
    found = dict(figures.get("calls_failed") or {})
    for kind, count in (figures.get("errors_by") or figures.get("error_kinds") or {}).items():
        key = kind if not kind.isdigit() else f"HTTP {kind}"
        found[key] = found.get(key, 0) + count
    if not found and figures.get("partial"):
        found["call"] = figures["partial"]  # a result from before the failures had kinds
    return found


async def run(
    lab: Lab,
    n: int = 10,
    delay: float = 1.0,
    repeat: int = 3,
    strategies=ARTICLE_STRATEGIES,
    targets=ARTICLE_TARGETS,
    allow_errors: bool = False,
) -> dict:
    """The table. `allow_errors` measures a cell whose calls fail where the article does not
    expect it (a server that serves one request at a time times out too): the verdict then
    says so, instead of loadgen refusing the target."""
    env = await environment(lab)
    # The article's uvicorn claim is about Django under ASGI, so it holds (or not) for
    # every ASGI server the backend may run: granian, hypercorn and daphne too.
    backend_server = (env.get("backend") or {}).get("server") or {}
    mode = "asgi" if backend_server.get("interface") == "asgi" else env["server_mode"]
    rows = []
    for strategy in strategies:
        for target in targets:
            expected, said = claim(strategy, target, mode)
            # The article's own HTTP clients, whatever the gateway's default.
            url = aggregation_url(lab, strategy, target, n, delay, client="article")
            # c=1 as the article's browser; the verify request doubles as warm-up.
            plan = Plan(urls=(url,), concurrency=1, duration=None, requests=repeat, timeout=lab.timeout)
            # Under asgi on Django 3.1 (or DJANGO31_THREADS) every fan-out to the sync view
            # shares one thread, the thread pool's too: its timeouts get a verdict, not a refusal.
            shared = mode == "asgi" and target == "sync"
            figures = await measure(
                lab, plan, f"article {strategy}/{target}", allow_errors=allow_errors or shared or expected == "timeout"
            )
            matches, reason, explanation = verdict(
                expected,
                figures["p50"],
                failed_by_kind(figures),
                n,
                delay,
                mode,
                threads_line(figures),
                cpu_line(figures),
            )
            rows.append(
                {
                    "strategy": strategy,
                    "target": target,
                    "url": url,
                    "median": figures["p50"],
                    "article": said,
                    "expected": expected,
                    "matches": matches,
                    "reason": reason,
                    "explanation": explanation,
                    "figures": figures,
                }
            )
    return {
        "experiment": "article",
        "scenario": {"n": n, "delay": delay, "repeat": repeat, "concurrency": 1},
        "environment": env,
        "rows": rows,
    }
