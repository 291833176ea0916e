"""The faults experiment's pure arithmetic: per-second bins and recovery after an outage."""

import pytest

from loadgen.experiments.faults import bins, failing_span, recovery


def test_bins_count_errors_and_take_the_median_per_second():
    timeline = [(0.1, 0.2, "ok"), (0.5, 0.4, "ok"), (0.9, 0.3, "502"), (1.2, 0.1, "partial"), (2.5, 0.2, "timeout")]
    # Each in the second of its answer: the 502 sent at 0.9 s came back at 1.2 s.
    assert bins(timeline) == [
        {"t": 0, "requests": 2, "errors": 0, "p50": pytest.approx(0.3), "errors_by": {}, "longest": 0.4},
        {"t": 1, "requests": 2, "errors": 2, "p50": 0.2, "errors_by": {"502": 1, "partial": 1}, "longest": 0.3},
        {"t": 2, "requests": 1, "errors": 1, "p50": 0.2, "errors_by": {"timeout": 1}, "longest": 0.2},
    ]


def timeline():
    """10/s for 30 s: clean at 50 ms, an outage from 10 to 15 s (fast 502s), slow clean
    answers (0.9 s) for 2 s after it, then back to normal."""
    rows = []
    for i in range(300):
        at = i / 10
        if 10 <= at < 15:
            rows.append((at, 0.005, "502"))
        elif 15 <= at < 17:
            rows.append((at, 0.9, "ok"))
        else:
            rows.append((at, 0.05, "ok"))
    return rows


def test_recovery_is_measured_from_the_backend_answering_again():
    r = recovery(bins(timeline()), down_at=10.0, up_at=15.0)
    assert r["outage"] == 5.0
    assert (r["before"]["error_rate"], r["during"]["error_rate"], r["after"]["error_rate"]) == (0, 1, 0)
    assert r["before"]["p50"] == pytest.approx(0.05) and r["during"]["p50"] == pytest.approx(0.005)
    # Slow answers until 17.8 s, but most of that second's are quick again: clean at its end.
    assert r["recovered_after"] == 3.0


def test_no_outage_no_recovery():
    assert recovery(bins(timeline()), None, None) == {"outage_seen": False}


def test_each_phase_keeps_its_errors_by_kind_and_its_longest_answer():
    r = recovery(bins(timeline()), down_at=10.0, up_at=15.0)
    assert r["during"]["errors_by"] == {"502": 50} and r["during"]["longest"] == pytest.approx(0.005)
    assert r["before"]["errors_by"] == {} and r["after"]["longest"] == pytest.approx(0.9)


def test_a_fault_nothing_else_shows_spans_its_failed_answers():
    # A restarted database: the backend's /healthz never went down, the answers did.
    down, up = failing_span(timeline())
    assert down == 10.0 and up == pytest.approx(14.9, abs=0.01)
    r = recovery(bins(timeline()), down, up)
    assert r["during"]["error_rate"] == 1 and r["before"]["error_rate"] == 0


def test_no_failed_answer_no_span():
    assert failing_span([(0.1, 0.2, "ok"), (0.2, 0.2, "ok")]) == (None, None)
    assert failing_span([(0.1, 0.2, "ok"), (0.2, 0.2, "partial")]) == (0.2, pytest.approx(0.201))


def kill_result(mode: str) -> dict:
    """A worker killed at 10 s and replaced at 10.6 s, under `mode`, through the database."""
    rows = [(i / 10, 0.05, "disconnect" if 100 <= i < 104 else "ok") for i in range(300)]
    return {
        "experiment": "faults",
        "variant": "backend-worker-killed",
        "environment": {"server_mode": mode, "timestamp": "2026-01-01T00:00:00+00:00"},
        "scenario": {"fault": "backend-worker-killed", "watched": "backend-workers", "strategy": "gather"}
        | {"rate": 10, "duration": 30, "n": 5, "deadline": 2},
        "recovery": recovery(bins(rows), 10.0, 10.6),
        "connections": {"reported": True, "before": 3, "peak": 9, "after": 3},
    }


def test_the_report_shows_each_fault_with_errors_by_kind_longest_answer_and_connections(tmp_path):
    import json

    from loadgen.report import render
    from loadgen.sections.faults import table

    for mode in ("granian", "wsgi"):
        (tmp_path / f"x-faults-backend-worker-killed-{mode}.json").write_text(json.dumps(kill_result(mode)))
    text = render(tmp_path).read_text()
    rows = [line for line in text.splitlines() if line.startswith("| a backend worker killed")]
    # Modes in the report's order; the second the kill fell in is during, with its 4 cut requests.
    assert [row.split(" | ")[1] for row in rows] == ["wsgi", "granian"]
    assert "| 0.6 s | 0% | 40% | 0% | disconnect x4 | 50.0 ms |" in rows[0]
    assert "- a backend worker killed (kill -9), wsgi: PostgreSQL connections: 3 as the run began, 9 at" in text
    shown = table(kill_result("wsgi"))
    assert "a backend worker was gone at 10.0 s, a new one served at 10.6 s (0.6 s)" in shown
    assert "errors   40% (disconnect x4), p50 50.0 ms, longest 50.0 ms" in shown
