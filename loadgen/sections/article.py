"""The article experiment's terminal table and report section (loadgen/experiments/article.py measures)."""

from __future__ import annotations

from .. import markdown
from ..experiments.article import OVERHEAD, overlap_limit
from ..results import modes
from ..units import format_duration
from . import Section


def table(result: dict) -> str:
    lines = [
        f"article table, SERVER_MODE={result['environment']['server_mode']} "
        f"(n={result['scenario']['n']}, delay={result['scenario']['delay']:g} s, "
        f"median of {result['scenario']['repeat']})",
        f"{'strategy':<11} {'view':<6} {'median':>9}  {'verdict':<8} article says / why",
    ]
    for row in result["rows"]:
        lines.append(
            f"{row['strategy']:<11} {row['target']:<6} {format_duration(row['median']):>9}  "
            f"{'matches' if row['matches'] else 'DIFFERS':<8} {row['article']}"
        )
        lines.append(f"{'':<38}-> {row['reason']}")
        if row.get("explanation"):
            lines.append(f"{'':<38}   explanation (not measured here): {row['explanation']}")
    return "\n".join(lines)


def section(latest: dict, folder) -> Section:
    found = modes(latest, "article")
    if not found:
        return Section([])
    s = latest[("article", found[0])]["scenario"]
    lines = [
        "## The article's table",
        "",
        f"Gateway strategy x backend view, n = {s['n']} calls of {s['delay']:g} s, one request at a time, "
        f"median of {s['repeat']}. *article* is what the article says for that server; the verdict says "
        "whether it still holds here, by a stated rule: *about one delay* (the calls overlap) holds when "
        f"the median is under {overlap_limit(s['n'], s['delay']):.2f} s (one delay plus the larger of half "
        f"a delay and {OVERHEAD:g} s, and under n delays); *at least n x delay* when it is at least "
        f"{s['n'] * s['delay']:g} s; *calls time out* only when the gateway listed a call that timed out.",
        "",
    ]
    by_cell: dict[tuple[str, str], dict] = {}
    for mode in found:
        for row in latest[("article", mode)]["rows"]:
            by_cell.setdefault((row["strategy"], row["target"]), {})[mode] = row
    rows, notes = [], []
    for (strategy, target), by_mode in by_cell.items():
        cells = [strategy, target]
        for mode in found:
            row = by_mode.get(mode)
            if row is None:
                cells += ["-", "-"]
                continue
            cells += [format_duration(row["median"]), "matches" if row["matches"] else "**differs**"]
            if not row["matches"]:
                notes.append(
                    f"- **{strategy} / {target} view, {mode}**: the article says *{row['article']}*; "
                    f"measured {format_duration(row['median'])}: {row['reason']}."
                    + (f" *Explanation, not a measurement:* {row['explanation']}." if row.get("explanation") else "")
                )
        rows.append(cells)
    header = ["strategy", "backend view", *(f"{m}: {what}" for m in found for what in ("median", "verdict"))]
    return Section(
        lines + markdown.table(header, rows) + ["", *(notes or ["Every claim holds in the modes measured."]), ""]
    )
