"""Module size (issue 24): no Python module over 350 lines, and one over 250 says why in its
docstring, in a paragraph that starts "Over 250 lines:"."""

import ast

from harness.live import ROOT

LIMIT, EXPLAINED = 350, 250
SKIPPED = {".venv", "build", ".git", "node_modules"}


def modules():
    found = [path for path in ROOT.rglob("*.py") if not SKIPPED & set(path.relative_to(ROOT).parts)]
    assert len(found) > 100, "the scan found too few modules to be the checkout"
    return sorted(found)


def sizes():
    return {path.relative_to(ROOT).as_posix(): len(path.read_text().splitlines()) for path in modules()}


def test_no_module_is_over_350_lines():
    assert {name: lines for name, lines in sizes().items() if lines > LIMIT} == {}


def test_a_module_over_250_lines_says_why_at_its_top():
    unexplained = []
    for name, lines in sizes().items():
        if lines > EXPLAINED:
            docstring = ast.get_docstring(ast.parse((ROOT / name).read_text())) or ""
            if not any(paragraph.startswith("Over 250 lines:") for paragraph in docstring.split("\n\n")):
                unexplained.append(name)
    assert unexplained == []
