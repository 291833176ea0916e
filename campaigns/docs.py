"""Docs whose figures come from a run, never from a hand: docs/templates/NAME.md rendered
against the results in docs/reference/ into docs/NAME.md (`python -m campaigns.docs`,
which `make reference` runs; a test fails when a rendered doc is stale).

A placeholder is `{{ EXPRESSION }}` or `{{ EXPRESSION | FORMAT }}`: EXPRESSION names
figures by path and may do arithmetic with them (`sweep.asgi.gather.auto.c20.rps /
sweep.wsgi.gather.auto.c20.rps`), FORMAT is a Python format spec (`.1f`, `.0%`) or one of
`duration` (1.07 s, 850 ms) and `minutes` (12 min 40 s). Paths:

- `EXPERIMENT.MODE...`: the newest result of that experiment and mode, as the report reads
  them (results.load); a result's `cells` or `rows` are reached by their fields:
  `sweep.asgi.gather.auto.c20` (strategy, client, c<concurrency> or r<rate>),
  `article.wsgi.gather.sync` (strategy, target), `resources.wsgi.gather` (strategy);
  then any key of the cell and of its figures (`rps`, `p50`, `requests`, `bound.bound_by`,
  `spread.rps`, `figures.services.backend.threads_peak`);
- `campaign.lab.seconds`: a campaign's record; `reference.machine.cores` and the like:
  docs/reference/machine.json;
- a campaign's own reference run (`make reference REFERENCE_OF=capacity`, in
  docs/reference/capacity/) is read beside make lab's: its results by the campaign's name
  (`chat_5k.asgi...` for make chat-5k's chat results), then mode, then each variant, named
  with `_` for every character a name cannot hold
  (`capacity.wsgi.gather_auto_cpu0_5_0_5.capacity.rate`); its record is `campaign.capacity`,
  its machine `reference_capacity`;
- an item of a list by its index: `model.projections[0].rate`.

An expression that names nothing fails the render, naming it: a doc never shows a
figure its data does not have.
"""

from __future__ import annotations

import ast
import json
import keyword
import operator
import re
import sys
from pathlib import Path

from loadgen.results import load
from loadgen.units import format_duration

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "docs" / "templates"
REFERENCE = ROOT / "docs" / "reference"
PLACEHOLDER = re.compile(r"\{\{\s*(.+?)\s*(?:\|\s*([^}|]+?)\s*)?\}\}")
OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


class Missing(KeyError):
    """A placeholder names a figure the results do not have."""


class Node:
    """A result, cell or figures dict reached by attribute: cells by their fields, then keys."""

    def __init__(self, value, path: str) -> None:
        self.value, self.path = value, path

    def get(self, name: str) -> Node:
        here = f"{self.path}.{name}" if self.path else name
        value = self.value
        if isinstance(value, dict):
            # A trailing _ stands for a Python keyword (`article.asgi.gather.async_`).
            name = name[:-1] if name.endswith("_") and keyword.iskeyword(name[:-1]) else name
            for key in (name, name.replace("_", "-"), name.replace("_", "/")):
                if key in value:
                    return Node(value[key], here)
            if "figures" in value and isinstance(value["figures"], dict) and name in value["figures"]:
                return Node(value["figures"][name], here)
            if "figures" in value and _matches(value, name):
                return Node(value, here)  # a field of the cell already reached: it stays
            for items in (value.get("cells"), value.get("rows")):
                if isinstance(items, list):
                    found = [item for item in items if _matches(item, name)]
                    if found:
                        return Node(found[0] if len(found) == 1 else _narrow(found), here)
        raise Missing(here)

    def at(self, index: int) -> Node:
        """An item of a list (`model.projections[2]`: the third projection)."""
        here = f"{self.path}[{index}]"
        if isinstance(self.value, list) and -len(self.value) <= index < len(self.value):
            return Node(self.value[index], here)
        raise Missing(here)


def _matches(item: dict, name: str) -> bool:
    """Whether a cell or row has `name` as one of its fields' values (c20: concurrency 20)."""
    if name.startswith("c") and name[1:].isdigit():
        return item.get("concurrency") == int(name[1:])
    if name.startswith("r") and name[1:].replace("_", ".").replace(".", "", 1).isdigit():
        return item.get("rate") == float(name[1:].replace("_", "."))
    return name in {str(item.get(f)) for f in ("strategy", "client", "target", "view", "variant") if item.get(f)}


def _narrow(items: list[dict]) -> dict:
    """Several cells matched so far: the next name narrows them down."""
    return {"cells": items}


def name_of(key: str) -> str:
    """A key as a template names it: every character a Python name cannot hold is `_`."""
    return re.sub(r"\W", "_", key)


def namespace(folder: Path) -> dict[str, Node]:
    tree: dict[str, dict] = {}
    _add(tree, folder, None)
    for sub in sorted(path for path in folder.iterdir() if path.is_dir()) if folder.is_dir() else ():
        _add(tree, sub, sub.name)
    return {name: Node(value, name) for name, value in tree.items()}


def _add(tree: dict, folder: Path, campaign: str | None) -> None:
    """make lab's run (campaign None), or another campaign's, whose experiments have variants."""
    for (experiment, mode), result in load(folder).items():
        top, _, variant = experiment.partition("/")
        if top == "campaign":
            tree.setdefault("campaign", {})[campaign or variant] = result
        elif campaign is None:
            tree.setdefault(name_of(top), {})[name_of(mode)] = result
        else:
            # By the campaign's name: two campaigns may run one experiment (chat, chat-5k).
            tree.setdefault(name_of(campaign), {}).setdefault(name_of(mode), {})[name_of(variant)] = result
    machine = folder / "machine.json"
    if machine.exists():
        tree["reference" if campaign is None else f"reference_{name_of(campaign)}"] = json.loads(machine.read_text())


def evaluate(expression: str, names: dict[str, Node]):
    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in names:
                raise Missing(node.id)
            return names[node.id]
        if isinstance(node, ast.Attribute):
            return walk(node.value).get(node.attr)
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and type(node.slice.value) is int:
            return walk(node.value).at(node.slice.value)
        if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
            return OPERATORS[type(node.op)](_number(walk(node.left)), _number(walk(node.right)))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -_number(walk(node.operand))
        raise ValueError(f"not a figure expression: {expression!r}")

    # A path may name a field that is a Python keyword (the async view): spelled with a _.
    expression = re.sub(r"\.([a-z]+)\b", lambda m: f".{m[1]}_" if keyword.iskeyword(m[1]) else m[0], expression)
    value = walk(ast.parse(expression.replace("@", "_"), mode="eval"))
    return value.value if isinstance(value, Node) else value


def _number(value):
    return value.value if isinstance(value, Node) else value


def shown(value, spec: str | None) -> str:
    if value is None:
        return "-"
    if spec == "duration":
        return format_duration(value)
    if spec == "minutes":
        minutes, seconds = divmod(round(value), 60)
        return f"{minutes} min {seconds} s"
    if spec:
        return format(value, spec).replace("%", " %") if spec.endswith("%") else format(value, spec)
    return str(value)


def render(text: str, names: dict[str, Node]) -> str:
    def one(match: re.Match) -> str:
        return shown(evaluate(match.group(1), names), match.group(2))

    return PLACEHOLDER.sub(one, text)


GENERATED = "<!-- Rendered by `make reference` from docs/templates/{name} and docs/reference/: edit the template. -->\n"


def targets(templates: Path = TEMPLATES) -> list[tuple[Path, Path]]:
    return [(path, ROOT / "docs" / path.name) for path in sorted(templates.glob("*.md"))]


def rendered(template: Path, folder: Path = REFERENCE) -> str:
    return GENERATED.format(name=template.name) + render(template.read_text(), namespace(folder))


def main(argv: list[str] | None = None) -> int:
    for template, out in targets():
        try:
            out.write_text(rendered(template))
        except Missing as exc:
            print(f"{template}: no figure {exc} in {REFERENCE}", file=sys.stderr)
            return 2
        print(f"rendered {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
