"""campaigns/docs.py: placeholders resolve to the figures of the results they name, do
arithmetic with them, and fail loudly on a figure the results do not have."""

import json

import pytest

from campaigns import docs


def result(experiment, mode, cells=None, rows=None, **extra):
    body = {"experiment": experiment, "environment": {"timestamp": "2026-12-01T00:00:00+00:00", "server_mode": mode}}
    if cells is not None:
        body["cells"] = cells
    if rows is not None:
        body["rows"] = rows
    return {**body, **extra}


def cell(strategy, client, concurrency, rps, rate=None):
    return {
        "strategy": strategy,
        "client": client,
        "concurrency": concurrency,
        "rate": rate,
        "figures": {"rps": rps, "p50": 0.25, "requests": 120},
        "bound": {"bound_by": "backend threads"},
    }


@pytest.fixture
def names(tmp_path):
    files = {
        "20261201T000000-sweep-wsgi.json": result("sweep", "wsgi", [cell("gather", "auto", 20, 9.7)]),
        "20261201T000001-sweep-asgi.json": result(
            "sweep", "asgi", [cell("gather", "auto", 20, 38.8), cell("gather", "auto", None, 5.0, rate=5.0)]
        ),
        "20261201T000002-article-asgi.json": result(
            "article", "asgi", rows=[{"strategy": "gather", "target": "sync", "median": 1.07, "figures": {}}]
        ),
        "20261201T000003-campaign-lab-all.json": {
            **result("campaign", "all", variant="lab"),
            "seconds": 761.0,
            "steps": [],
        },
    }
    for name, body in files.items():
        (tmp_path / name).write_text(json.dumps(body))
    return docs.namespace(tmp_path)


def test_a_placeholder_is_the_figure_it_names_formatted(names):
    text = "wsgi {{ sweep.wsgi.gather.auto.c20.rps | .1f }}/s, bound by {{ sweep.wsgi.gather.auto.c20.bound.bound_by }}"
    assert docs.render(text, names) == "wsgi 9.7/s, bound by backend threads"
    assert docs.render("{{ sweep.asgi.gather.auto.r5.p50 | duration }}", names) == "250.0 ms"
    assert docs.render("{{ article.asgi.gather.sync.median | duration }}", names) == "1.07 s"
    assert docs.render("make lab took {{ campaign.lab.seconds | minutes }}", names) == "make lab took 12 min 41 s"


def test_arithmetic_between_figures(names):
    text = "{{ sweep.asgi.gather.auto.c20.rps / sweep.wsgi.gather.auto.c20.rps | .1f }}x"
    assert docs.render(text, names) == "4.0x"
    assert docs.render("{{ sweep.wsgi.gather.auto.c20.requests - 20 }}", names) == "100"


def test_a_figure_the_results_do_not_have_fails_the_render_naming_it(names):
    with pytest.raises(docs.Missing, match="sweep.wsgi.gather.auto.c50"):
        docs.render("{{ sweep.wsgi.gather.auto.c50.rps }}", names)
    with pytest.raises(docs.Missing, match="servers"):
        docs.render("{{ servers.asgi.rps }}", names)
    with pytest.raises(ValueError, match="not a figure expression"):
        docs.render("{{ __import__('os') }}", names)
