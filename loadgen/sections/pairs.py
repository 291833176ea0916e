"""The sweep's naive and tuned client side by side: what the client alone is worth in a mode,
and the asgi/wsgi difference split into the server's part and the client's."""

from __future__ import annotations

from .. import markdown
from ..experiments.sweep import NAIVE


def client_of(cell: dict, result: dict) -> str:
    return cell.get("client") or result["scenario"].get("client") or NAIVE


def _ratio(top: float | None, bottom: float | None) -> str:
    return f"{top / bottom:.2f}x" if top and bottom else "-"


def naive_tuned(latest: dict, found: list[str]) -> list[str]:
    """Each naive/tuned pair side by side, and the asgi/wsgi difference split into the
    server's part (the same client in both modes) and the client's (tuned/naive in one mode)."""
    rps: dict[tuple, float] = {}
    for mode in found:
        result = latest[("sweep", mode)]
        for cell in result["cells"]:
            # Closed-loop cells only: an open loop's throughput is the rate it offered.
            if cell.get("concurrency") is not None:
                rps[(mode, cell["strategy"], client_of(cell, result), cell["concurrency"])] = cell["figures"]["rps"]
    tuned = sorted({c for _, _, c, _ in rps if c != NAIVE})
    order = list(dict.fromkeys(s for _, s, _, _ in rps))  # the sweep's own order of strategies
    points = sorted({(s, c) for _, s, _, c in rps}, key=lambda p: (order.index(p[0]), p[1]))
    if not tuned or not any(c == NAIVE for _, _, c, _ in rps):
        return []
    both = "wsgi" in found and "asgi" in found
    header = ["strategy", "concurrency", "tuned client"]
    for mode in found:
        header += [f"{mode}: {NAIVE}", f"{mode}: tuned", f"{mode}: tuned / {NAIVE}"]
    if both:
        header += [f"asgi / wsgi, {NAIVE}", "asgi / wsgi, tuned"]
    rows = []
    for strategy, concurrency in points:
        for client in tuned:
            got = {(m, c): rps.get((m, strategy, c, concurrency)) for m in found for c in (NAIVE, client)}
            if not any(got[(m, client)] for m in found):
                continue
            row = [strategy, concurrency, client]
            for mode in found:
                naive, better = got[(mode, NAIVE)], got[(mode, client)]
                row += [f"{naive:.1f}" if naive else "-", f"{better:.1f}" if better else "-", _ratio(better, naive)]
            if both:
                row += [
                    _ratio(got[("asgi", NAIVE)], got[("wsgi", NAIVE)]),
                    _ratio(got[("asgi", client)], got[("wsgi", client)]),
                ]
            rows.append(row)
    if not rows:
        return []
    return [
        "### Naive and tuned client",
        "",
        f"Throughput (median req/s) with the article's client (`{NAIVE}`: a new client per request) and with a "
        "tuned one, per strategy and level. *tuned / article* within a mode is what the client alone is worth "
        "there; *asgi / wsgi* with one client is what the server mode alone is worth with it. With the "
        "article's client the asgi/wsgi ratio mixes the two (its CPU per aggregation differs by mode); with "
        "the tuned client it is closer to the server's own part. The factors multiply: wsgi with the "
        "article's client to asgi with the tuned one is (asgi / wsgi, article) x (asgi: tuned / article), "
        "the server's part times the client's.",
        "",
        *markdown.table(header, rows),
        "",
    ]
