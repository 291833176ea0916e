"""report renders results/ into report.md and PNG plots, from a small fixture.

Over 250 lines: most of it is the results fixture the report is rendered from."""

import json

from loadgen.experiments.faults import bins, recovery
from loadgen.report import render
from tests.loadgen.test_faults import timeline


def service(threads, rss_mib, in_flight):
    return {
        "threads_peak": threads,
        "rss_peak_bytes": rss_mib * 2**20,
        "in_flight_peak": in_flight,
        "cpu_ms_per_request": 30.0,
    }


def figures(rps, p50, p99, errors=0, holds=True, threads=10):
    parts = {"rest": 0.1 * p50, "gateway": 0.05 * p50, "calls": 0.25 * p50, "backend": 0.6 * p50}
    return {
        "requests": 100,
        "errors": errors,
        "partial": 0,
        "rps": rps,
        "p50": p50,
        "p90": p50 * 1.2,
        "p99": p99,
        "max": p99 * 1.1,
        "littles_law": {"holds": holds, "ratio": 1.0 if holds else 0.4},
        "loadgen": {"saturated": False, "cpu_share": 0.1},
        "drain": {"drained": True, "waited": 0.5},
        "breakdown": {
            "requests": 100,
            "latency": p50,
            "parts": parts,
            "shares": {k: v / p50 for k, v in parts.items()},
        },
        "services": {"gateway": service(threads, 80, 10), "backend": service(threads + 2, 60, 100)},
    }


def environment(mode, stamp):
    server = {
        "server": "gunicorn" if mode == "wsgi" else "uvicorn",
        "workers": 1,
        "threads": 10 if mode == "wsgi" else None,
    }
    health = {"server": server, "versions": {"django": "5.2.19"}}
    return {"timestamp": stamp, "server_mode": mode, "gateway": health, "backend": health, "git_commit": "abc1234"}


def write(folder, name, result):
    (folder / name).write_text(json.dumps(result))


def fixture(folder):
    for mode, gather in (("wsgi", 1.12), ("asgi", 1.17)):
        rows = [
            {
                "strategy": "gather",
                "target": "sync",
                "median": gather,
                "article": "about one delay",
                "matches": mode == "wsgi",
                "reason": "since Django 3.2 each ASGI request runs its sync view on its own thread",
            },
            {
                "strategy": "sequential",
                "target": "sync",
                "median": 10.5,
                "article": "at least n x delay",
                "matches": True,
                "reason": "10 x 1 s + 0.5 s",
            },
        ]
        write(
            folder,
            f"20260101T000000-article-{mode}.json",
            {
                "experiment": "article",
                "environment": environment(mode, "2026-01-01T00:00:00+00:00"),
                "scenario": {"n": 10, "delay": 1.0, "repeat": 3},
                "rows": rows,
            },
        )
        cells = [
            {
                "strategy": s,
                "concurrency": c,
                "figures": figures(
                    10.0 * c**0.5, 0.15 * c**0.3, 0.3 * c**0.3, holds=c < 50, threads=c if mode == "asgi" else 10
                ),
            }
            for s in ("gather", "threadpool")
            for c in (1, 10, 50)
        ]
        write(
            folder,
            f"20260101T000100-sweep-{mode}.json",
            {
                "experiment": "sweep",
                "environment": environment(mode, "2026-01-01T00:01:00+00:00"),
                "scenario": {"n": 10, "delay": 0.1, "duration": 10, "warmup": 3, "target": "sync"},
                "cells": cells,
            },
        )
        memory = {
            "threads": {"count": 10000, "bytes_each": 16 * 1024},
            "tasks_event": {"count": 100000, "bytes_each": 1200},
        }
        write(
            folder,
            f"20260101T000300-resources-{mode}.json",
            {
                "experiment": "resources",
                "environment": {
                    **environment(mode, "2026-01-01T00:03:00+00:00"),
                    "gateway": {**environment(mode, "")["gateway"], "db_signals": "off"},
                    "backend": {**environment(mode, "")["backend"], "db_signals": "on"},
                },
                "memory": memory,
                "scenario": {"concurrency": 200, "n": 5, "delay": 0.5, "target": "async"},
                "cells": [
                    {
                        "strategy": "gather",
                        "concurrency": 200,
                        "figures": figures(50.0, 1.5, 3.0, threads=7 if mode == "wsgi" else 90),
                    }
                ],
            },
        )
    # An older article file for wsgi (replaced by the newer one) and a file that is not a result.
    write(
        folder,
        "20250101T000000-article-wsgi.json",
        {
            "experiment": "article",
            "environment": environment("wsgi", "x"),
            "scenario": {"n": 1, "delay": 9, "repeat": 1},
            "rows": [],
        },
    )
    (folder / "notes.json").write_text("not json")
    write(
        folder,
        "bench-20260101T000200.json",
        {
            "experiment": "bench",
            "environment": {"timestamp": "20260101T000200", "server_mode": "mixed", "wrk": "wrk 4.1.0"},
            "rounds": 3,
            "duration": 8,
            "targets": [
                {
                    "label": "trivial",
                    "concurrency": 50,
                    "tools": {"wrk": {"rps": 864.4, "p50": 0.0578}, "loadgen": {"rps": 891.6, "p50": 0.0552}},
                }
            ],
            "verdicts": [{"check": "trivial: throughput within 10 % of wrk", "ok": True}],
        },
    )


def test_report_has_the_article_table_with_verdicts_and_the_sweep_with_plots(tmp_path):
    fixture(tmp_path)
    text = render(tmp_path).read_text()
    assert "| strategy | backend view | wsgi: median | wsgi: verdict | asgi: median | asgi: verdict |" in text
    assert "| gather | sync | 1.12 s | matches | 1.17 s | **differs** |" in text
    assert (
        "- **gather / sync view, asgi**: the article says *about one delay*; measured 1.17 s: since Django 3.2" in text
    )
    assert "n = 10 calls of 1 s" in text  # the newest wsgi article file won over the 2025 one
    # Under each mode's heading: the closed loop's caption, then its table.
    sweep = {mode: text.split(f"### {mode}\n\n", 1)[1].split("\n\n", 2)[1] for mode in ("wsgi", "asgi")}
    row = (
        "| gather | article | {c} | 100 | {rps} | - | {p50} | {p90} | {p99} | {max} | 0 | 0 | {bound} | {why} "
        "| {of_ideal} | {headroom} | - | {gw} / 80 MiB | {be} / 60 MiB | {notes} |"
    )
    little = "Little's law off (x0.40): window short for latency"
    # A result from before --repeat and bounds.py: one run, no spread, its bound judged on reading.
    # Each mode's table has that mode's threads; the notes flag only the cells that broke Little's law.
    ideal = "{share} of the ideal {ideal}/s (c / 0.1 s floor)"
    for mode, gw, bound, why, headroom in (
        # 70.7/s past what 10 threads allow at n = 10 of 0.1 s (10/s): a fixture's figures, not a real run's.
        # Its in-flight peaks fill both thread pools: no headroom left. asgi has no pools, and these
        # old results no CPU: no budget to read a headroom from.
        ("wsgi", 10, "backend threads", "backend: its 10 request threads allow 10.0/s; reached 707 %", "0 % / 0 %"),
        (
            "asgi",
            50,
            "the delay?",
            "nothing at its limit; nearest: " + ideal.format(share="14 %", ideal="500.0"),
            "- / -",
        ),
    ):
        assert (
            row.format(
                bound=bound,
                why=why,
                of_ideal="14 %",
                headroom=headroom,
                c=50,
                rps=70.7,
                p50="485.0 ms",
                p90="582.1 ms",
                p99="970.1 ms",
                max="1.07 s",
                gw=gw,
                be=gw + 2,
                notes=little,
            )
            in sweep[mode].splitlines()
        )
    assert (
        row.format(
            bound="the delay?",
            why="nothing at its limit; nearest: " + ideal.format(share="32 %", ideal="100.0"),
            of_ideal="32 %",
            headroom="- / -",
            c=10,
            rps=31.6,
            p50="299.3 ms",
            p90="359.1 ms",
            p99="598.6 ms",
            max="658.4 ms",
            gw=10,
            be=12,
            notes="",
        )
        in sweep["asgi"].splitlines()
    )
    assert "| wsgi | sweep c=50, article client | gather |" in text and "(60%)" in text  # where the time went
    assert "A parked thread costs about 14x a parked task" in text
    assert (
        "| asgi | off / on | gather | 50.0 | 1.50 s | 10 | 90 | 80 MiB | 100 | 92 | 60 MiB | 30.0 ms | the delay? |"
        in text
    )
    for name in ("sweep-throughput.png", "sweep-latency.png", "sweep-resources.png"):
        assert f"]({name})" in text
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| 20260101T000100-sweep-asgi.json | asgi | uvicorn 1w | uvicorn 1w | 5.2.19 | abc1234 |" in text
    assert "| trivial, c=50 | loadgen | 891.6 | 55.2 ms |" in text
    assert "- ok: trivial: throughput within 10 % of wrk" in text
    assert "| bench-" not in text  # not a row of unknowns in the environment table


def test_an_empty_results_folder_says_what_to_do(tmp_path):
    assert "No results yet" in render(tmp_path).read_text()


def test_the_report_shows_clients_faults_and_soak(tmp_path):
    env = {"timestamp": "2026-01-01T00:00:00+00:00", "server_mode": "asgi", "gateway": None, "backend": None}
    figures = {
        "rps": 50.0,
        "p50": 0.2,
        "p99": 0.4,
        "errors": 0,
        "partial": 0,
        "requests": 500,
        "services": {"gateway": {"cpu_ms_per_request": 12.5}},
    }
    (tmp_path / "a-clients-asgi.json").write_text(
        json.dumps(
            {
                "experiment": "clients",
                "environment": env,
                "scenario": {"n": 10, "delay": 0.1, "duration": 8},
                "cells": [{"strategy": "gather", "client": "aiohttp", "concurrency": 50, "figures": figures}],
            }
        )
    )
    (tmp_path / "b-faults-asgi.json").write_text(
        json.dumps({"experiment": "faults", "environment": env, "recovery": recovery(bins(timeline()), 10.0, 15.0)})
    )
    (tmp_path / "c-soak-asgi.json").write_text(
        json.dumps(
            {
                "experiment": "soak",
                "environment": env,
                "scenario": {"strategy": "gather", "rate": 20, "duration": 300},
                "figures": figures,
                "memory": {"gateway": {"growth": 0.031}, "backend": {"growth": -0.002}},
            }
        )
    )
    text = render(tmp_path).read_text()
    assert "| asgi | gather | aiohttp | 50 | 50.0 | 200.0 ms | 400.0 ms | 0 | 0 | 12.5 ms | the delay? |" in text
    # A result from before faults had names is the first fault, the backend stopped.
    row = "| backend stopped and started | asgi | 5.0 s | 0% | 100% | 0% | 502 x50 | 5.0 ms "
    assert row + "| 50.0 ms | 5.0 ms | 50.0 ms | 3.0 s |" in text
    assert "| asgi | gather at 20/s for 300 s | 500 | 0 | 200.0 ms | 400.0 ms | +3.1% | -0.2% |" in text
