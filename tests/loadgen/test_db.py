"""The db experiment's pure parts: connection summaries, the table and the report section."""

from loadgen import results
from loadgen.experiments import db
from loadgen.sections import db as db_shown


def stats(total, active=0, idle=0, limit=100):
    return {
        "engine": "postgres",
        "connections": {"total": total, "by_state": {"active": active, "idle": idle}, "max": limit},
    }


def test_summary_takes_peaks_and_what_stayed_open():
    samples = [stats(0), stats(12, active=12), stats(30, active=28, idle=2), stats(3, idle=3)]
    assert db.summarise(samples, stats(6, idle=6)) == {
        "reported": True,
        "max": 100,
        "peak": 30,
        "active_peak": 28,
        "idle_before": 0,
        "after": 6,
        "samples": 4,
    }


def test_sqlite_or_a_silent_backend_reports_nothing():
    assert db.summarise([{"engine": "sqlite", "connections": None}], None) == {"reported": False}
    assert db_shown.shown({"reported": False}) == ("-", "-")


def test_an_after_figure_that_never_came_is_a_question_mark_not_a_crash():
    seen = db.summarise([stats(9, active=9)], None)
    assert seen["after"] is None
    assert db_shown.shown(seen) == ("9/100", "?")


def test_variant_names_the_database_set_up():
    def env(database_):
        return {"backend": {"database": database_}}

    assert db.variant(env({"engine": "sqlite3", "pool": None})) == "sqlite"
    assert db.variant(env({"engine": "postgresql", "pool": None})) == "postgres"
    assert db.variant(env({"engine": "postgresql", "pool": {"max_size": 10}})) == "postgres+pool"
    assert db.variant(env(None)) == "none"


def result(variant, mode, after):
    figures = {
        "rps": 18.5,
        "p50": 0.5,
        "p99": 0.6,
        "errors": 0,
        "partial": 2,
        "requests": 90,
        "services": {"backend": {"threads_peak": 27}},
        "database": db.summarise([stats(9, active=9)], None if after is None else stats(after)),
    }
    return {
        "experiment": "db",
        "variant": variant,
        "environment": {"server_mode": mode, "timestamp": "t"},
        "scenario": {"levels": [10], "targets": ["db-async"], "n": 5, "delay": 0.1, "duration": 5, "warmup": 1},
        "cells": [{"target": "db-async", "concurrency": 10, "figures": figures}],
    }


def test_table_and_report_show_each_variant_and_mode(tmp_path):
    text = db_shown.table(result("postgres", "asgi", None))
    assert "database postgres" in text and "9/100" in text and text.rstrip().endswith("?")
    import json

    for name, (variant, mode, after) in {
        "a": ("postgres+pool", "wsgi", 9),
        "b": ("sqlite", "asgi", None),
        "c": ("postgres", "asgi", 0),
    }.items():
        (tmp_path / f"2026{name}-db-{variant}-{mode}.json").write_text(json.dumps(result(variant, mode, after)))
    lines = db_shown.section(results.load(tmp_path), tmp_path).lines
    rows = [line for line in lines if line.startswith("| sqlite") or line.startswith("| postgres")]
    # SQLite first, then PostgreSQL, then with the pool.
    assert [row.split(" | ")[0] for row in rows] == ["| sqlite", "| postgres", "| postgres+pool"]
    assert rows[1].endswith("| 27 | 9/100 | 0 |")
