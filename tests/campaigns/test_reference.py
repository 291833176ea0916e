"""campaigns/reference.py's account of what the host did beyond the lab, from a run's JSON."""

import json

from campaigns import reference


def test_the_reference_readme_counts_the_host_beyond_the_lab_and_the_disturbed_cells(tmp_path):
    cells = [
        {"bound": {"bound_by": "the delay", "neighbours": 0.04}},
        {"bound": {"bound_by": "neighbours", "neighbours": 0.25}},
        {"bound": {"bound_by": "gateway unresponsive", "neighbours": None}},
        {"bound": {"bound_by": "backend CPU", "neighbours": 0.06}},
    ]
    (tmp_path / "20261203T000000-sweep-asgi.json").write_text(json.dumps({"experiment": "sweep", "cells": cells}))
    (tmp_path / "20261203T000001-campaign-lab-all.json").write_text(json.dumps({"steps": []}))
    rows = [{"figures": {"disturbed": {"neighbours": 0.12}}}, {"figures": {}}]
    (tmp_path / "20261203T000002-article-wsgi.json").write_text(json.dumps({"experiment": "article", "rows": rows}))
    text = reference.outside(tmp_path)
    assert "each of the 3 judged cells" in text
    assert "median 6.0%, highest 25.0%" in text and "cells and article rows left `neighbours`: 2." in text


def test_a_run_with_no_judged_cell_says_so(tmp_path):
    (tmp_path / "20261203T000000-article-asgi.json").write_text(json.dumps({"rows": []}))
    assert "No cell" in reference.outside(tmp_path)
