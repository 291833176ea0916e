"""The newest run of each campaign (make lab, ...): its time and every step that did not run
to the end, with why."""

from __future__ import annotations

from pathlib import Path

from . import Section


def section(latest: dict, folder: Path) -> Section:
    """The newest run of each campaign (make lab, ...): its time, and every step that failed
    or was skipped with why, so a report made from a run that lost a step says so."""
    runs = [result for (name, _), result in sorted(latest.items()) if name.startswith("campaign/")]
    if not runs:
        return Section([])
    lines = ["## The run", ""]
    for result in runs:
        steps, failed = result["steps"], [s for s in result["steps"] if s["status"] != "ok"]
        minutes, seconds = divmod(round(result["seconds"]), 60)
        lines.append(
            f"`make {result['variant']}` ({result['_file']}): {minutes} min {seconds} s, "
            f"{len(steps) - len(failed)} of {len(steps)} steps done"
            + ("." if not failed else f"; **{len(failed)} did not run to the end**, so their sections are missing:")
        )
        for step in failed:
            what = " ".join(step["args"]) or step["kind"]
            why = " / ".join(line.strip() for line in (step.get("why") or [])[-3:] if line.strip())
            code = f"exit {step['exit']}: " if "exit" in step else ""
            lines.append(f"- {step['status']}: `{what}` ({step['label'] or 'all'}): {code}{why}")
        lines.append("")
    return Section(lines)
