"""loadgen compare: the verdict maths on results whose answer is known, the command around
it, and one comparison of two real runs."""

import json

import pytest

from harness.live import serve_env
from loadgen import cli, compare
from loadgen import comparison as judged
from tests.loadgen.test_live import loadgen


def run(rps, p50=None, p99=None):
    """One run's figures: latency in step with throughput, as in a closed loop (L = X W)."""
    p50 = p50 if p50 is not None else 10.0 / rps
    return {"rps": rps, "p50": p50, "p99": p99 if p99 is not None else 1.5 * p50, "errors": 0}


def cell(strategy, concurrency, rps_runs, client="article"):
    repeats = [run(r) for r in rps_runs]
    median = sorted(repeats, key=lambda f: f["rps"])[(len(repeats) - 1) // 2]
    return {"strategy": strategy, "client": client, "concurrency": concurrency, "figures": median, "repeats": repeats}


def sweep(mode, cells, stamp="20260101T000000"):
    return {
        "experiment": "sweep",
        "environment": {"timestamp": stamp, "server_mode": mode},
        "scenario": {"target": "sync", "repeat": len(cells[0]["repeats"])},
        "cells": cells,
        "_file": f"{stamp}-sweep-{mode}.json",
    }


def latest(*results):
    return {(r["experiment"], r["environment"]["server_mode"]): r for r in results}


def verdicts(comparison):
    return {(r["key"]["strategy"], r["key"]["concurrency"]): r["verdict"] for r in comparison["rows"]}


def test_a_20_percent_regression_is_caught_and_a_difference_inside_the_spread_is_not():
    a = latest(sweep("asgi", [cell("gather", 20, [100, 102, 98]), cell("threadpool", 20, [90, 100, 110])]))
    b = latest(sweep("asgi", [cell("gather", 20, [80, 82, 78]), cell("threadpool", 20, [95, 105, 112])]))
    comparison = judged.compare(a, b)
    assert verdicts(comparison) == {("gather", 20): "slower", ("threadpool", 20): "same within noise"}
    [gather] = [r for r in comparison["rows"] if r["key"]["strategy"] == "gather"]
    assert gather["figures"]["rps"]["ratio"] == pytest.approx(0.80)
    assert gather["figures"]["p50"]["verdict"] == "slower"  # latency up with throughput down
    assert [r["key"]["strategy"] for r in judged.failed(comparison, "slower")] == ["gather"]
    assert judged.failed(comparison, "faster") == []
    # And the other way round it is an improvement.
    assert verdicts(judged.compare(b, a))[("gather", 20)] == "faster"


def test_errors_where_there_were_none_are_a_regression_whatever_the_throughput():
    a = latest(sweep("gevent", [cell("gather", 20, [40, 41, 42])]))
    b = latest(sweep("gevent", [cell("gather", 20, [44, 45, 46])]))
    failing = b[("sweep", "gevent")]["cells"][0]["figures"]
    failing.update(errors=7, error_rate=0.07, errors_by={"500": 5, "502": 2})
    [row] = judged.compare(a, b)["rows"]
    assert row["figures"]["rps"]["verdict"] == "faster" and row["figures"]["errors"]["verdict"] == "slower"
    assert row["verdict"] == "slower" and row["b"]["errors"] == "7: 500 x5, 502 x2"
    # The other way round the errors are gone (and the throughput lower: slower, all the same).
    assert judged.compare(b, a)["rows"][0]["figures"]["errors"]["verdict"] == "faster"


def test_a_disturbed_side_gets_no_verdict():
    a = latest(sweep("asgi", [cell("gather", 20, [100, 102, 98])]))
    b = latest(sweep("asgi", [cell("gather", 20, [60, 61, 62])]))
    b[("sweep", "asgi")]["cells"][0]["figures"]["disturbed"] = {"host_busy": 0.95, "lab_busy": 0.3}
    comparison = judged.compare(a, b)
    assert comparison["rows"][0]["verdict"] == "not comparable: B disturbed"
    assert judged.failed(comparison, "slower") == []


def test_ranges_apart_by_less_than_the_minimum_effect_are_the_same():
    steady = judged.judge([100, 100.2, 100.4], [101, 101.2, 101.4], 100.2, 101.2, more_is_better=True)
    assert steady["verdict"] == "same within noise" and "ranges apart" in steady["basis"]
    apart = judged.judge([100, 101, 102], [95, 95.5, 96], 101, 95.5, more_is_better=True)
    assert apart["verdict"] == "slower"
    # Apart, but not once each range is widened by half its width: three runs underestimate it.
    close = judged.judge([100, 101, 102], [97, 98, 99], 101, 98, more_is_better=True)
    assert close["verdict"] == "same within noise" and "ranges overlap" in close["basis"]
    # Overlapping ranges, but further apart than both spreads together: still a change.
    wide = judged.judge([100, 100, 130], [125, 160, 160], 100, 160, more_is_better=False)
    assert "ranges overlap" in wide["basis"] and wide["noise"] == pytest.approx(0.3 + 35 / 160)
    assert wide["verdict"] == "slower" and wide["ratio"] == pytest.approx(1.6)


def test_without_repeats_the_default_band_decides_and_says_so():
    inside = judged.judge([100], [93], 100, 93, more_is_better=True)
    assert inside["verdict"] == "same within noise" and "default band ±10 %" in inside["basis"]
    outside = judged.judge([100], [85], 100, 85, more_is_better=True)
    assert outside["verdict"] == "slower"
    assert judged.judge([100], [93], 100, 93, more_is_better=True, noise=0.05)["verdict"] == "slower"
    assert judged.judge([0.1], [0.2], 0.1, 0.2, more_is_better=False)["verdict"] == "slower"
    assert judged.judge([], [], None, 0.2, more_is_better=False)["verdict"] == "not comparable"


def test_cells_match_by_experiment_mode_strategy_client_target_and_concurrency():
    a = latest(
        sweep("asgi", [cell("gather", 20, [100]), cell("gather", 50, [100]), cell("gather", 20, [100], "auto")]),
        sweep("wsgi", [cell("gather", 20, [100])]),
    )
    b = latest(sweep("asgi", [cell("gather", 20, [60]), cell("gather", 20, [100], "auto"), cell("gather", 100, [1])]))
    comparison = judged.compare(a, b)
    assert [(r["key"]["mode"], r["key"]["client"], r["key"]["concurrency"]) for r in comparison["rows"]] == [
        ("asgi", "article", 20),
        ("asgi", "auto", 20),
    ]
    assert [r["verdict"] for r in comparison["rows"]] == ["slower", "same within noise"]
    assert {(k[1], k[5]) for k in comparison["only_a"]} == {("asgi", 50), ("wsgi", 20)}
    assert [(k[1], k[5]) for k in comparison["only_b"]] == [("asgi", 100)]


def test_article_rows_match_by_strategy_and_view():
    def article(medians):
        rows = [{"strategy": s, "target": t, "figures": run(1 / m, p50=m, p99=m)} for (s, t), m in medians.items()]
        return {
            "experiment": "article",
            "environment": {"timestamp": "t", "server_mode": "wsgi"},
            "scenario": {"concurrency": 1},
            "rows": rows,
        }

    a = latest(article({("gather", "sync"): 1.1, ("gather", "async"): 1.1}))
    b = latest(article({("gather", "sync"): 1.12, ("gather", "async"): 10.5}))
    rows = judged.compare(a, b)["rows"]
    assert [(r["key"]["target"], r["key"]["client"], r["key"]["concurrency"], r["verdict"]) for r in rows] == [
        ("async", "article", 1, "slower"),
        ("sync", "article", 1, "same within noise"),
    ]


def test_a_pair_run_with_other_settings_says_which():
    a, b = sweep("asgi", [cell("gather", 20, [100])]), sweep("asgi", [cell("gather", 20, [100])])
    b["scenario"] = {**b["scenario"], "delay": 0.2, "n": 10}
    a["scenario"] = {**a["scenario"], "delay": 0.1, "n": 10}
    [row] = judged.compare(latest(a), latest(b))["rows"]
    assert row["differs"] == ["delay 0.1 → 0.2"]
    assert "(settings differ: delay 0.1 → 0.2)" in compare.terminal({"rows": [row]})


def write(path, result):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({k: v for k, v in result.items() if k != "_file"}))
    return path


def test_the_command_writes_markdown_and_html_next_to_b_and_fails_on_a_regression(tmp_path, capsys, monkeypatch):
    a = write(tmp_path / "a" / "20260101T000000-sweep-asgi.json", sweep("asgi", [cell("gather", 20, [100, 102, 98])]))
    b_folder = tmp_path / "b"
    write(b_folder / "20260101T000000-sweep-asgi.json", sweep("asgi", [cell("gather", 20, [150, 150, 150])]))
    write(b_folder / "20260102T000000-sweep-asgi.json", sweep("asgi", [cell("gather", 20, [80, 82, 78])]))
    assert cli.main(["compare", str(a), str(b_folder), "--fail-if", "slower"]) == 1
    out, err = capsys.readouterr()
    assert "sweep asgi gather article sync view c=20" in out and "slower" in out
    assert "--fail-if slower: sweep asgi gather article sync view c=20 is slower" in err
    md = (b_folder / "compare.md").read_text()
    assert "| sweep | asgi | gather | article | sync | 20 | 100.0 | 80.0 | 0.80x (slower) |" in md
    page = (b_folder / "compare.html").read_text()
    assert '<table class="sortable">' in page and "0.80x (slower)" in page
    # The twin, and an improvement that passes a --fail-if slower.
    monkeypatch.setenv("LOADGEN_COMPARE_FAIL_IF", "slower")
    assert cli.main(["compare", str(b_folder), str(a), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "compare.html").is_file()
    monkeypatch.setenv("LOADGEN_COMPARE_FAIL_IF", "different")
    assert cli.main(["compare", str(b_folder), str(a), "--out", str(tmp_path / "out")]) == 1


def test_nothing_in_common_or_nothing_to_read_is_a_usage_error(tmp_path, capsys):
    a = write(tmp_path / "a.json", sweep("asgi", [cell("gather", 20, [100])]))
    b = write(tmp_path / "b.json", sweep("wsgi", [cell("gather", 20, [100])]))
    assert cli.main(["compare", str(a), str(b)]) == 2
    assert "no measurement is in both" in capsys.readouterr().err
    assert cli.main(["compare", str(a), str(tmp_path / "missing.json")]) == 2
    assert cli.main(["compare", str(a)]) == 2
    with pytest.raises(SystemExit):
        cli.main(["compare", str(a), str(a), "--fail-if", "worse"])


def test_two_real_runs_compare_by_their_own_histograms(known, tmp_path):
    """Two live runs against a server whose delay is known, the second three times slower:
    compare calls it slower; a run compared with itself is the same."""
    for side, delay in (("a", 0.05), ("b", 0.15)):
        result = loadgen(
            ["run", f"{known.url}/api/async/?delay={delay}", "-n", "40", "-c", "4", "--warmup", "0"]
            + ["--no-drain", "--no-verify", "--quiet"],
            serve_env(LOADGEN_RESULTS=tmp_path / side, LOADGEN_GATEWAY_URL=known.url, LOADGEN_BACKEND_URL=known.url),
        )
        assert result.returncode == 0, result.stderr
    # p50 >= each delay (a sleep takes at least that long), so B/A of p50 is about 3.
    result = loadgen(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--fail-if", "slower"], serve_env())
    assert result.returncode == 1, result.stdout + result.stderr
    md = (tmp_path / "b" / "compare.md").read_text()
    [row] = [line for line in md.splitlines() if line.startswith("| run |")]
    cells = [c.strip() for c in row.strip("|").split("|")]
    header = [c.strip() for c in md.splitlines()[md.splitlines().index(row) - 2].strip("|").split("|")]
    shown = dict(zip(header, cells, strict=True))
    assert shown["verdict"] == "slower" and "default band" in shown["judged on"]
    assert shown["p50 B/A"].endswith("x (slower)") and float(shown["p50 B/A"].split("x")[0]) > 1.1
    [saved] = (tmp_path / "a").glob("*-run-*.json")
    same = loadgen(["compare", str(saved), str(saved), "--out", str(tmp_path / "same")], serve_env())
    assert same.returncode == 0, same.stderr
    assert "0 slower, 0 faster, 1 same within noise of 1 matched" in same.stdout
