"""The results folder: one JSON file per experiment run written (`save`), the newest of
each read back for the report (`load`), and what a failed write does instead."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from asynclab.features import series
from asynclab.knobs import KNOBS

from . import model

if TYPE_CHECKING:  # the host's campaigns read results with nothing of loadgen's engine installed
    from .lab import Lab

# The Django the lab runs unless DJANGO says otherwise: its results keep their plain keys.
DEFAULT_DJANGO = KNOBS["DJANGO"].default

# The report's column order for server modes; any other mode comes after these.
MODES = (
    "wsgi",
    "asgi",
    "runserver",
    "gunicorn-sync",
    "gevent",
    "granian-wsgi",
    "uvicorn-worker",
    "granian",
    "hypercorn",
    "daphne",
)


def show_unsaved(path: Path, exc: OSError, text: str, what: str) -> None:
    """Put what could not be written on stdout between marker lines, and say so on stderr."""
    begin, end = f"----- loadgen: unsaved {what} begins -----", f"----- loadgen: unsaved {what} ends -----"
    print(f"{begin}\n{text.rstrip()}\n{end}", flush=True)
    print(
        f"loadgen: cannot write {path}: {exc}; the {what} is on stdout between the lines '{begin}' and '{end}'",
        file=sys.stderr,
    )


def save(lab: Lab, result: dict) -> Path | None:
    """One JSON file per experiment run, named so `ls` sorts them by time.

    None if it could not be written: the JSON is then on stdout (show_unsaved), since a
    run can take an hour and its figures must not be lost with the file.
    """
    stamp = re.sub(r"[^0-9T]", "", result["environment"]["timestamp"])[:15]
    variant = f"-{result['variant']}" if result.get("variant") else ""
    other = version_of(result)
    variant += f"-django{other}" if other else ""
    variant += "-partial" if result.get("partial") else ""
    name = f"{stamp}-{result['experiment']}{variant}-{result['environment']['server_mode'] or 'unknown'}.json"
    path = lab.results / name
    text = json.dumps(result, indent=1, default=str) + "\n"
    try:
        lab.results.mkdir(parents=True, exist_ok=True)
        write(path, text)
    except OSError as exc:
        show_unsaved(path, exc, text, "result JSON")
        return None
    return path


def write(path: Path, text: str) -> None:
    """Write `text` to `path` whole or not at all: into a temporary file in the same folder,
    then renamed over it (atomic on one file system), so a stop, a crash or a full disk
    never leaves a torn file for the report to read. The temporary file goes on failure."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(name, 0o644)  # mkstemp's 0600 would hide the result from the host's user
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise


def measured(result: dict) -> list[dict]:
    """Every measurement's figures in a result: its rows', its cells' or its own; for an
    experiment made of others' parts (servers: article rows, sweep cells), theirs; for a
    capacity search, its confirmations of the found rate (its steps above it fail by design)."""
    if "capacity" in result:
        return [run["figures"] for run in confirmations(result)]
    if "rows" in result:
        return [row["figures"] for row in result["rows"]]
    if "cells" in result:
        return [cell["figures"] for cell in result["cells"]]
    if "figures" in result:
        return [result["figures"]]
    return [
        part["figures"]
        for value in result.values()
        if isinstance(value, list)
        for part in value
        if isinstance(part, dict) and "figures" in part
    ]


# What tells one measurement of a result from another: compare matches cells on these, the
# percentile plots group and label them by these.
FIELDS = ("strategy", "client", "target", "concurrency", "rate")


def django_of(result: dict) -> str | None:
    """The Django line ('3.1') the services ran, as the backend's /healthz (else the
    gateway's) reported it in the result's environment; None when neither did."""
    environment = result.get("environment") or {}
    for service in ("backend", "gateway"):
        found = ((environment.get(service) or {}).get("versions") or {}).get("django")
        if found:
            return series(found)
    return None


def version_of(result: dict) -> str | None:
    """The Django a result ran on when it is not the plain default: '3.1', or
    '5.2+django31-threads' for the default with DJANGO31_THREADS=on (the emulation of 3.1)."""
    django = django_of(result)
    environment = result.get("environment") or {}
    if any((environment.get(service) or {}).get("django31_threads") for service in ("backend", "gateway")):
        return f"{django or DEFAULT_DJANGO}+django31-threads"
    return django if django not in (None, DEFAULT_DJANGO) else None


# A result on another Django than the default is an experiment of its own ("article@3.1"):
# every section keyed by (experiment, mode) then shows the default Django only, as before,
# and loadgen/experiments/versions.py sets the versions side by side.
VERSION_MARK = "@"


def experiment_of(result: dict) -> str:
    """Its experiment, with the variant for those that run once per set-up (db/postgres),
    and the Django version when it is not the plain default (article@3.1). A run stopped
    part way (loadgen/stopped.py) is an experiment of its own, "partial/faults": its
    figures never stand in a section for a whole run's."""
    name = ("partial/" if result.get("partial") else "") + result["experiment"]
    name += f"/{result['variant']}" if result.get("variant") else ""
    version = version_of(result)
    return name + (f"{VERSION_MARK}{version}" if version else "")


def confirmations(result: dict) -> list[dict]:
    """A capacity search's runs of the rate it found (loadgen/search.py), in order."""
    offered = (result.get("capacity") or {}).get("offered")
    return [s for s in result.get("steps") or [] if s["phase"] == "confirm" and s["rate"] == offered]


def _capacity_items(result: dict) -> list[dict]:
    """A capacity result as one measurement: its confirmations, the one with the median
    carried rate shown (the capacity itself), at no stated rate, so two searches that found
    different rates still meet in `loadgen compare`."""
    runs = [run["figures"] for run in confirmations(result)]
    if not runs:
        return []
    shown = sorted(runs, key=lambda f: f.get("rps") or 0.0)[(len(runs) - 1) // 2]
    return [{"figures": shown, "repeats": runs, "rate": None}]


def measurements(result: dict) -> list[dict]:
    """Every measurement of a result, each with FIELDS (None where the experiment has no such
    thing), its `figures` and its runs (`repeats`: the sweep's repeated runs, else the one).
    A field the row or cell does not name comes from the scenario: the article's rows and
    the sweep's older cells name no client, a db cell no strategy, a run no target."""
    scenario = result.get("scenario") or {}
    items = result.get("rows") or result.get("cells") or ([result] if result.get("figures") else [])
    if "capacity" in result:
        items = _capacity_items(result)
    found = []
    for item in items:
        if not item.get("figures"):
            continue
        fields = {name: item.get(name) if item is not result else None for name in FIELDS}
        for name in FIELDS:
            if fields[name] is None:
                fields[name] = scenario.get(name)
        if fields["client"] is None and result["experiment"] in ("article", "sweep"):
            fields["client"] = "article"  # what both ask the gateway for unless told otherwise
        figures = item["figures"]
        found.append({**fields, "figures": figures, "repeats": item.get("repeats") or [figures]})
    return found


def read(path: Path) -> dict[tuple[str, str], dict]:
    """One result file, or the newest of each experiment and mode in a folder (as `load`)."""
    if path.is_dir():
        return load(path)
    result = json.loads(path.read_text())
    result["_file"] = path.name
    return {(experiment_of(result), result["environment"]["server_mode"] or "unknown"): result}


def load(results: Path) -> dict[tuple[str, str], dict]:
    """Newest result per (experiment, server_mode); unreadable files are skipped, not fatal.
    A result on another Django than the default keys as its own experiment (experiment_of).

    Files sort by name, which starts with the time: re-running an experiment replaces its
    figures in the report, and older files stay on disk as history.
    """
    latest: dict[tuple[str, str], dict] = {}
    for path in sorted(results.glob("*.json")):
        try:
            result = json.loads(path.read_text())
            # db runs once per database set-up: each variant is an experiment of its own.
            key = (experiment_of(result), result["environment"]["server_mode"] or "unknown")
        except (ValueError, KeyError, TypeError):
            continue
        result["_file"] = path.name
        if result.get("experiment") == "capacity" and result.get("steps"):
            # The model is arithmetic over the steps the file records: read by today's model,
            # an older run's prediction improves with it, its measurements stay as they were.
            result["model"] = model.check(result)
        latest[key] = result
    return latest


def mode_order(mode: str) -> int:
    return MODES.index(mode) if mode in MODES else len(MODES)


def modes(latest: dict, experiment: str) -> list[str]:
    """The server modes `experiment` has a result for, in the report's order."""
    return sorted((mode for (name, mode) in latest if name == experiment), key=mode_order)
