"""The GIL as this process really runs it, for /healthz, /telemetry and the start-up log.

A free-threaded build (PYTHON=3.14t, docs/versions.md) runs without the GIL only until it
imports a C extension that has not declared it can: CPython then turns the GIL on for good,
warns once on stderr and carries on. A run on such a service would be labelled
free-threaded while it measured the GIL. So every worker reports what
`sys._is_gil_enabled()` says now, and a worker that finds it on in a free-threaded build
says so at start and names the module that turned it on where it can.

`sys._is_gil_enabled()` exists from Python 3.13: on older Pythons (the Django 3.x and 4.2
images) `enabled()` is None, unknown, never a guess.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from typing import Any

# The warning CPython gives when an import turns the GIL on (Python/import.c).
WARNING = "The global interpreter lock (GIL) has been enabled to load module '"
# What a child interpreter runs to find which of the candidates turns the GIL on.
_PROBE = """
import importlib, sys, warnings
prefix, found = sys.argv[1], None
# On already (a sitecustomize or .pth import at start): its warning went to stderr.
if not sys._is_gil_enabled():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name in sys.argv[2:]:
            try:
                importlib.import_module(name)
            except Exception:
                continue
            if sys._is_gil_enabled():
                found = name
                break
    for warning in caught:
        text = str(warning.message)
        if text.startswith(prefix):
            found = text[len(prefix):].split("'", 1)[0]
print(found or "")
"""


def free_threaded_build() -> bool:
    """Whether this interpreter was built with --disable-gil (abiflags 't')."""
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def enabled() -> bool | None:
    """sys._is_gil_enabled(), or None on a Python that cannot say (before 3.13)."""
    probe = getattr(sys, "_is_gil_enabled", None)
    return None if probe is None else bool(probe())


# CPython's own variable (PYTHON_GIL=1 turns the GIL on, 0 keeps it off), not a lab knob.
CPYTHON_GIL = "PYTHON_GIL"


def forced() -> str | None:
    """The setting that turned the GIL on by hand, if one did: PYTHON_GIL=1 or -X gil=1."""
    if os.environ.get(CPYTHON_GIL, "").strip() == "1":
        return f"{CPYTHON_GIL}=1"
    if str(getattr(sys, "_xoptions", {}).get("gil", "")) == "1":
        return "-X gil=1"
    return None


def extensions(modules: dict[str, Any] | None = None) -> list[str]:
    """The C extension modules this process has loaded (the only kind that can turn the
    GIL on), top-level packages' first, in import order."""
    found = []
    for name, module in list((sys.modules if modules is None else modules).items()):
        origin = getattr(getattr(module, "__spec__", None), "origin", None) or ""
        if origin.endswith(".so") or origin.endswith(".pyd"):
            found.append(name)
    return found


def named(text: str) -> list[str]:
    """The modules CPython's warnings in `text` name as having turned the GIL on."""
    found = []
    for part in text.split(WARNING)[1:]:
        name = part.split("'", 1)[0]
        if name and name not in found:
            found.append(name)
    return found


def culprits(candidates: list[str], timeout: float = 60, rounds: int = 3) -> list[str]:
    """Which of `candidates` turn the GIL on, found in fresh interpreters (this one's GIL
    is on for good): each round imports them in order until one does, and names it from
    CPython's own warning, on stderr too (a sitecustomize or .pth import warns before any
    code of ours runs); the next round leaves it out. At most `rounds` names."""
    names: list[str] = []
    env = {key: value for key, value in os.environ.items() if key != CPYTHON_GIL}
    env["PYTHONWARNINGS"] = "default::RuntimeWarning"
    for _ in range(rounds):
        rest = [name for name in candidates if name not in names]
        try:
            result = subprocess.run(
                [sys.executable, "-c", _PROBE, WARNING, *rest], capture_output=True, text=True, timeout=timeout, env=env
            )
        except (OSError, subprocess.SubprocessError):
            break
        new = [name for name in [*named(result.stderr), result.stdout.strip()] if name and name not in names]
        if not new:
            break
        names += new
    return names


def state(find_culprits: bool = False) -> dict[str, Any]:
    """This process's GIL: its build, whether the GIL is on, and, when a free-threaded
    build runs with it on, why (a setting, or the modules that turned it on)."""
    build = free_threaded_build()
    on = enabled()
    reason: str | list[str] | None = None
    if build and on:
        reason = forced() or (culprits(extensions()) if find_culprits else None) or "unknown"
    return {"free_threaded_build": build, "gil_enabled": on, "reenabled_by": reason}


def verdict(build: bool, workers: list[bool | None]) -> dict[str, Any]:
    """The service's GIL from its workers': `gil_enabled` true if any worker runs with it,
    false only if every worker says it runs without, None where none can say; and
    `free_threaded`, the only thing a result may call free-threaded: a free-threaded build
    whose every worker runs without the GIL."""
    if any(value is True for value in workers):
        on: bool | None = True
    elif workers and all(value is False for value in workers):
        on = False
    else:
        on = None
    return {"gil_enabled": on, "free_threaded": bool(build and workers and on is False)}
