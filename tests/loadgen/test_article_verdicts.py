"""The article's claims as stated rules: article.verdict on synthetic cells, each claim
where the figures make the answer certain."""

import pytest

from loadgen.experiments.article import overlap_limit, verdict


def test_calls_that_overlap_are_about_one_delay():
    matches, measured, explanation = verdict("one", 1.07, {}, 10, 1.0, "asgi")
    assert matches and "1.07 x the delay" in measured and explanation is None


def test_two_and_a_half_delays_for_ten_calls_are_not_about_one_delay():
    # 10 calls of 1 s in 2.45 s: they overlapped in part (a pool of 5, say), not all at once.
    assert not verdict("one", 2.45, {}, 10, 1.0, None)[0]


def test_a_median_past_the_limit_is_explained_by_a_measured_figure_not_an_assumed_cause():
    # 1.67 s for ten 1 s calls through a thread pool on half a core: the rule alone cannot
    # tell late overlap from the gateway computing, so it names no cause, only the figure.
    cpu = "measured: the gateway spent 350 ms of CPU per aggregation"
    matches, measured, explanation = verdict("one", 1.67, {}, 10, 1.0, "wsgi", cpu=cpu)
    assert not matches and explanation is None
    assert measured == "1.67 x the delay, not under 1.50 s; " + cpu
    assert "overlap" not in verdict("one", 1.67, {}, 10, 1.0, "wsgi")[1]


def test_a_sequential_run_never_passes_for_overlapping_calls():
    # 3 calls of 0.2 s one after another: 0.62 s. The old rule (2 x delay + 0.5 s) called it "one".
    assert not verdict("one", 0.62, {}, 3, 0.2, None)[0]
    # For any n > 1 the limit stays under n delays, what calls one after another take at least.
    for n, delay in ((2, 0.01), (2, 0.2), (3, 0.2), (10, 1.0), (50, 0.05)):
        assert overlap_limit(n, delay) <= n * delay
        assert not verdict("one", n * delay, {}, n, delay, None)[0]


def test_the_allowance_covers_fixed_costs_that_do_not_shrink_with_the_delay():
    # 10 calls of 0.05 s with the article's client per call: ~0.2 s of set-up on top.
    assert verdict("one", 0.25, {}, 10, 0.05, None)[0]
    assert overlap_limit(1, 1.0) == pytest.approx(1.5)


def test_a_failed_call_breaks_an_overlap_claim_and_says_which():
    matches, measured, _ = verdict("one", 1.05, {"status": 2}, 10, 1.0, None)
    assert not matches and "status x2" in measured


def test_serial_holds_at_n_delays_or_more():
    matches, measured, _ = verdict("serial", 10.4, {}, 10, 1.0, None)
    assert matches and "10 x 1 s + 0.40 s" in measured
    assert not verdict("serial", 1.2, {}, 10, 1.0, None)[0]


def test_the_timeout_claim_holds_only_on_calls_that_timed_out():
    assert verdict("timeout", 5.6, {"timeout": 5}, 10, 1.0, "asgi")[0]
    # A 500 is a failure, not the article's timeout (Django 3.1 on Python 3.9 once answered so).
    matches, measured, explanation = verdict("timeout", 5.6, {"HTTP 500": 3}, 10, 1.0, "asgi")
    assert not matches and "none by timing out (HTTP 500 x3)" in measured
    assert explanation.startswith("since Django 4.0")


def test_an_explanation_is_never_given_as_the_measurement():
    matches, measured, explanation = verdict(
        "timeout", 1.08, {}, 10, 1.0, "asgi", "measured: the backend went from 5 to 15 threads while it held 10 calls"
    )
    assert not matches
    # What was measured, with the figure it rests on; why, apart and marked as such by the report.
    assert measured.startswith("no call timed out; measured: the backend went from 5 to 15 threads")
    assert "Django 4.0" not in measured and "Django 4.0" in explanation
