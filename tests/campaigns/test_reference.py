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
    assert "median 6.0%, highest 25.0%" in text and "steps left `neighbours`: 2." in text


def test_a_run_with_no_judged_cell_says_so(tmp_path):
    (tmp_path / "20261203T000000-article-asgi.json").write_text(json.dumps({"rows": []}))
    assert "No cell" in reference.outside(tmp_path)


def test_a_capacity_searchs_steps_are_judged_like_cells(tmp_path):
    # Each step: the host 40 % busy of 2 cores over a 10 s window, the lab's containers 0.7 s
    # and 0.1 s of the engine's: the lab 40 % of them, the host beyond it nothing; then 70 %.
    def step(host_busy, disturbed=None):
        figures = {
            "window": 10.0,
            "machine": {"cores": 2, "busy_share": host_busy},
            "services": {"gateway": {"container_cpu_seconds": 3.0}, "backend": {"container_cpu_seconds": 4.0}},
            "loadgen": {"window_container_cpu_seconds": 0.9},
            "engine": {"cpu_seconds": 0.1},
        }
        return {"rate": 5.0, "met": True, "figures": {**figures, **({"disturbed": disturbed} if disturbed else {})}}

    steps = [step(0.4), step(0.7, disturbed={"neighbours": 0.3})]
    (tmp_path / "20261203T000000-capacity-asgi.json").write_text(json.dumps({"experiment": "capacity", "steps": steps}))
    text = reference.outside(tmp_path)
    assert "each of the 2 judged cells' (or steps') windows" in text
    assert "highest 30.0%" in text and "steps left `neighbours`: 1." in text
