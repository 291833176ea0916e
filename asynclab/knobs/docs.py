"""The files rendered from the registries: `.env.example` and `docs/knobs.md` from the knobs,
and docs/servers.md's table of what WORKERS and THREADS set in each SERVER_MODE from the
server modules (asynclab/servers/), between two marker comments. Host-only (.dockerignore).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..servers import SERVERS
from ..servers.common import Option
from .knob import CONTAINER, KNOBS, SECTIONS, Knob, text

ROOT = Path(__file__).resolve().parents[2]
ENV_EXAMPLE = ROOT / ".env.example"
DOCS = ROOT / "docs" / "knobs.md"
SERVERS_MD = ROOT / "docs" / "servers.md"
GENERATED = "Generated from asynclab/knobs/ by `make knobs`: edit the registry, not this file."
# The servers table's bounds in docs/servers.md; the prose round it is written by hand.
TABLE_START = "<!-- The servers table: generated from asynclab/servers/ by `make knobs`; edit the modules. -->"
TABLE_END = "<!-- End of the servers table. -->"


def shown_default(knob: Knob) -> str:
    return knob.shown if knob.shown is not None else text(knob.default)


def shown_range(knob: Knob, code: Callable[[str], str] = str) -> str:
    choices = knob.allowed()
    if choices is not None:
        return ", ".join(code(text(choice)) for choice in choices)
    if isinstance(knob.default, bool):
        return ", ".join(code(choice) for choice in ("true", "false"))
    if knob.low is None and knob.high is None:
        return ""

    def end(bound: float | str | None) -> str:
        return code(bound) if isinstance(bound, str) else text(bound)

    return f"{end(knob.low)}..{end(knob.high)}"


def env_example() -> str:
    lines = [
        "# asynclab knobs, with their defaults. Copy to .env (git-ignored) to change them, or give",
        "# them on the command line: `make up SERVER_MODE=asgi` / `SERVER_MODE=asgi make up`.",
        f"# {GENERATED}",
        "# docs/knobs.md has the same list as a table.",
    ]
    for section, about in SECTIONS.items():
        if section == CONTAINER:
            continue
        lines += ["", f"# --- {section} ".ljust(88, "-"), *_wrap(about, "# ")]
        for knob in KNOBS.values():
            if knob.section != section:
                continue
            limits = shown_range(knob)
            note = f" ({limits})" if limits else ""
            if knob.default_at_most:
                note += f"; at most {knob.default_at_most} when unset"
            lines += [*_wrap(f"{knob.meaning}{note}.", "# "), f"{knob.name}={shown_default(knob)}"]
            if knob.per_service:
                lines += [
                    f"# Per-service override of {knob.name}; empty = use {knob.name}.",
                    *(f"{name}=" for name in knob.overrides()),
                ]
    return "\n".join(lines) + "\n"


def knobs_md() -> str:
    lines = [
        "# Knobs",
        "",
        f"<!-- {GENERATED} -->",
        "",
        "Every knob is an environment variable. Give it on the command line (`make up SERVER_MODE=asgi`),",
        "in the environment (`SERVER_MODE=asgi make up`) or in `.env` (copy `.env.example`). Empty means",
        "the default. A bad value stops the service at start with a message naming the variable.",
        "",
        "*Read by*: `backend`, `gateway` (the Django services, through `asynclab/knobs/`), `postgres`,",
        "`netem`, `loadgen` (those containers), `compose` (docker-compose.yml interpolates it), `make`.",
        "docker-compose.yml passes the services' knobs through by name, so their defaults are only here;",
        "the values compose interpolates keep their `${NAME:-default}` there too, and a test keeps the",
        "two equal.",
    ]
    for section, about in SECTIONS.items():
        lines += [
            "",
            f"## {section}",
            "",
            about,
            "",
            "| knob | default | range / choices | meaning | read by |",
            "|---|---|---|---|---|",
        ]
        for knob in KNOBS.values():
            if knob.section != section:
                continue
            name = f"`{knob.name}`"
            if knob.per_service:
                name += " (" + ", ".join(f"`{o}`" for o in knob.overrides()) + " override it per service)"
            default = f"`{shown_default(knob)}`" if shown_default(knob) else "empty"
            if knob.default_at_most:
                default += f" (at most `{knob.default_at_most}`)"
            meaning = knob.meaning.replace("|", "\\|")
            read_by = ", ".join(knob.read_by)
            lines.append(f"| {name} | {default} | {shown_range(knob, lambda s: f'`{s}`')} | {meaning} | {read_by} |")
    return "\n".join(lines) + "\n"


def _wrap(paragraph: str, prefix: str, width: int = 92) -> list[str]:
    lines, line = [], prefix
    for word in paragraph.split():
        if len(line) + len(word) > width and line != prefix:
            lines.append(line.rstrip())
            line = prefix
        line += word + " "
    return [*lines, line.rstrip()]


def servers_table() -> str:
    """What WORKERS and THREADS set in each mode, from the mode modules."""

    def cell(option: Option | None, knob: str) -> str:
        if option is None:
            return f"none: setting `{knob}` stops the service at start"
        default = f" (default {option.default})" if option.default is not None else ""
        return f"`{option.flag}`: {option.counts}{default}"

    lines = [
        "| `SERVER_MODE` | server | interface | `WORKERS` sets | `THREADS` sets | at once, per service |",
        "|---|---|---|---|---|---|",
    ]
    for mode, module in SERVERS.items():
        # gunicorn's modes differ in the worker: name the package that brings it.
        name = " + ".join(module.PACKAGES[:2]) if module.NAME == "gunicorn" else module.NAME
        lines.append(
            f"| `{mode}` | {name} | {module.INTERFACE} | {cell(module.WORKERS, 'WORKERS')} "
            f"| {cell(module.THREADS, 'THREADS')} | {module.CONCURRENCY} |"
        )
    return "\n".join(lines) + "\n"


def with_servers_table(current: str) -> str:
    """docs/servers.md's text with the servers table rendered between its markers, the rest as written."""
    head, start, rest = current.partition(TABLE_START + "\n")
    _, end, tail = rest.partition(TABLE_END + "\n")
    if not start or not end:
        raise ValueError(f"docs/servers.md lacks the servers table's markers: {TABLE_START} ... {TABLE_END}")
    return head + start + servers_table() + end + tail


def servers_md() -> str:
    return with_servers_table(SERVERS_MD.read_text())


FILES: dict[Path, Callable[[], str]] = {ENV_EXAMPLE: env_example, DOCS: knobs_md, SERVERS_MD: servers_md}


def stale() -> list[Path]:
    """The generated files that differ from what the registries would write now."""
    return [path for path, render in FILES.items() if not path.is_file() or path.read_text() != render()]
