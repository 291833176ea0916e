"""The versions experiment's terminal table and report section (loadgen/experiments/versions.py measures)."""

from __future__ import annotations

from asynclab.knobs import KNOBS

from .. import markdown
from ..experiments import article
from ..experiments.versions import TRIVIAL
from ..results import DEFAULT_DJANGO, VERSION_MARK, mode_order
from ..units import format_duration
from . import Section, servers

VERSIONS = KNOBS["DJANGO"].allowed()


# The emulation's column: the default Django with DJANGO31_THREADS=on (results.experiment_of).
EMULATED = f"{DEFAULT_DJANGO}+django31-threads"


# Why the article's uvicorn claim comes and goes with the version (asgiref's threading).
WHY = {
    "3.1": "Django 3.1 and 3.2 (asgiref 3.3, 3.4) run every thread-sensitive sync call of a process, each "
    "sync view and each request's sync signal receivers, on one shared thread: ten 1 s sync views take 10 s",
    "4.0": "since Django 4.0 each ASGI request runs its sync code in its own thread-sensitive context "
    "(ASGIHandler enters a ThreadSensitiveContext per request; 3.2's does not), so concurrent sync views "
    "each get a thread and overlap",
}


def django_line(result: dict) -> str:
    versions = ((result.get("environment") or {}).get("backend") or {}).get("versions") or {}
    return f"Django {versions.get('django', '?')}, asgiref {versions.get('asgiref', '?')}"


def table(result: dict) -> str:
    threads = result["threads"]
    per = threads["per_request"]
    return "\n".join(
        [
            f"versions, SERVER_MODE={result['environment']['server_mode']} ({django_line(result)})",
            f"  backend CPU per request at c={result['scenario']['cpu_concurrency']}: "
            + ", ".join(f"{view} {servers._cpu(result['cpu'][view])}" for view in TRIVIAL),
            f"  backend threads with {threads['in_flight']} async requests in flight: {threads['peak']} "
            f"(idle {threads['idle']}): {'-' if per is None else f'{per:.2f}'} per request",
        ]
    )


def by_version(latest: dict, experiment: str) -> dict[str, dict[str, dict]]:
    """{version: {mode: result}} of `experiment`, the default Django under its own number."""
    found: dict[str, dict[str, dict]] = {}
    for (name, mode), result in latest.items():
        base, _, version = name.partition(VERSION_MARK)
        if base == experiment:
            found.setdefault(version or DEFAULT_DJANGO, {})[mode] = result
    return found


def columns(found: dict[str, dict[str, dict]]) -> list[str]:
    order = [*VERSIONS, EMULATED]
    return sorted(found, key=lambda v: order.index(v) if v in order else len(order))


def label(version: str) -> str:
    return f"{DEFAULT_DJANGO} + DJANGO31_THREADS" if version == EMULATED else version


def _cell(row: dict | None) -> str:
    if row is None:
        return "-"
    kinds = article.failed_by_kind(row["figures"])
    median = format_duration(row["median"]) if row["median"] is not None else "-"
    what = "matches" if row["matches"] else "**differs**"
    failed = ", ".join(f"{kind} x{count}" for kind, count in sorted(kinds.items()))
    return f"{median} {what}" + (f" (failed: {failed})" if failed else "")


def _row(result: dict | None, strategy: str, target: str) -> dict | None:
    return next((r for r in (result or {}).get("rows", []) if (r["strategy"], r["target"]) == (strategy, target)), None)


def claim_verdicts(articles: dict[str, dict[str, dict]], pairs: list[tuple[str, str]]) -> list[str]:
    """One line per claim the article makes (a cell's claim can differ by mode): on which
    versions and modes it holds, and why not elsewhere."""
    keys: list[tuple[str, str]] = []
    for by_mode in articles.values():
        for result in by_mode.values():
            keys += [(r["strategy"], r["target"]) for r in result["rows"] if (r["strategy"], r["target"]) not in keys]
    lines = []
    for strategy, target in sorted(keys, key=lambda c: list(article.ARTICLE_CLAIMS).index(c)):
        claims: dict[str, tuple[list[str], dict[str, list[str]]]] = {}
        for version, mode in pairs:
            row = _row(articles.get(version, {}).get(mode), strategy, target)
            if row is None:
                continue
            holds, reasons = claims.setdefault(row["article"], ([], {}))
            where = f"{label(version)} {mode}"
            if row["matches"]:
                holds.append(where)
            else:
                reasons.setdefault(row["reason"], []).append(where)
        for said, (holds, reasons) in claims.items():
            line = f"- **{strategy} / {target} view**, *{said}*: holds on {', '.join(holds) or 'none'}"
            if reasons:
                line += "; not on " + "; ".join(f"{', '.join(where)}: {reason}" for reason, where in reasons.items())
            lines.append(line + ".")
    return lines


def emulation_check(articles: dict[str, dict[str, dict]]) -> list[str]:
    """The real 3.1's gather / sync view under asgi beside the emulation on the default Django."""

    real = _row(articles.get("3.1", {}).get("asgi"), "gather", "sync")
    emulated = _row(articles.get(EMULATED, {}).get("asgi"), "gather", "sync")
    if real is None or emulated is None:
        return []
    both = (real["matches"], emulated["matches"])
    same = both[0] == both[1]
    text = (
        f"**The emulation against the real Django 3.1** (gather over the sync view, asgi): real 3.1 "
        f"{_cell(real)}, {DEFAULT_DJANGO} with DJANGO31_THREADS=on {_cell(emulated)}. "
    )
    if same and both[0]:
        text += (
            "Both time out: DJANGO31_THREADS puts one shared thread in front of each request's own context, "
            "which is what asgiref 3.3 did for every thread-sensitive call, so the emulation holds."
        )
    elif same:
        text += "Neither times out here, so this run cannot tell the two apart."
    else:
        text += "They differ: the emulation does not reproduce Django 3.1 (see docs/versions.md)."
    return [text, ""]


def section(latest: dict, folder) -> Section:
    articles = by_version(latest, "article")
    measured = by_version(latest, "versions")
    if len(set(articles) | set(measured)) < 2:
        return Section([])
    versions = columns({**articles, **measured})
    modes = sorted({mode for by_mode in [*articles.values(), *measured.values()] for mode in by_mode}, key=mode_order)
    lines = [
        "## Django versions side by side",
        "",
        "The same lab on each Django it runs (`make versions`; docs/versions.md): each version's own image, "
        "lock and Python, the article's set-up pinned on 3.1 (asgiref 3.3.1, uvicorn 0.12.3, gunicorn 20.0.4, "
        f"httpx 0.16.1); *{label(EMULATED)}* is the default Django with the emulation of 3.1's threading.",
        "",
    ]
    if articles:
        # Only the (version, mode) pairs measured: the emulation runs under asgi alone.
        pairs = [(v, m) for v in versions for m in modes if m in articles.get(v, {})]
        header = ["strategy", "backend view", *(f"{label(v)} {m}" for v, m in pairs)]
        keys: list[tuple[str, str]] = []
        for by_mode in articles.values():
            for result in by_mode.values():
                keys += [
                    (r["strategy"], r["target"]) for r in result["rows"] if (r["strategy"], r["target"]) not in keys
                ]
        rows = [
            [strategy, target, *(_cell(_row(articles[v][m], strategy, target)) for v, m in pairs)]
            for strategy, target in sorted(keys, key=lambda c: list(article.ARTICLE_CLAIMS).index(c))
        ]
        lines += ["### The article's table on each version", "", *markdown.table(header, rows), ""]
        lines += claim_verdicts(articles, pairs) + [""]
        lines += [f"- *Why*: {WHY['3.1']}; {WHY['4.0']}.", ""]
        lines += emulation_check(articles)
    if measured:
        header = [
            "Django",
            "mode",
            "Django / asgiref",
            "backend CPU / request, sync view",
            "async view",
            "threads per async request in flight",
        ]
        rows = []
        for version in versions:
            for mode in modes:
                result = measured.get(version, {}).get(mode)
                if result is None:
                    continue
                per = result["threads"]["per_request"]
                rows.append(
                    [
                        label(version),
                        mode,
                        django_line(result),
                        servers._cpu(result["cpu"]["sync"]),
                        servers._cpu(result["cpu"]["async"]),
                        "-"
                        if per is None
                        else f"{per:.2f} ({result['threads']['peak']} at {result['threads']['in_flight']})",
                    ]
                )
        s = next(iter(next(iter(measured.values())).values()))["scenario"]
        lines += [
            "### CPU and threads per request",
            "",
            f"The backend's CPU seconds over its requests for its trivial views (`delay=0`) at c = "
            f"{s['cpu_concurrency']}, median ± spread of {s['repeat']}; and its threads above idle at their peak over "
            f"its peak of requests in flight, with {s['level']} requests of {s['delay']:g} s on its async view "
            "(the backend has a database, so Django's sync request_started receivers run for each request).",
            "",
            *markdown.table(header, rows),
            "",
        ]
    return Section(lines)
