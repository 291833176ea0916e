"""Objectives: what `--slo` accepts and refuses, and how one measurement is judged against them."""

import pytest

from loadgen import slo


def figures(p99=0.1, count=1000, errors=0, requests=1000, floor=None, **extra):
    return {
        "p50": 0.01,
        "p90": 0.05,
        "p99": p99,
        "p999": p99 * 2 if p99 is not None else None,
        "latency": {"count": count, "lower_bound_from": floor},
        "errors": errors,
        "requests": requests,
        "error_rate": errors / requests if requests else 0.0,
        **extra,
    }


@pytest.mark.parametrize(
    ("text", "name", "limit"),
    [
        ("p99=500ms", "p99", 0.5),
        ("P99 = 0.5s", "p99", 0.5),
        ("p50<=2s", "p50", 2.0),
        ("p90<250ms", "p90", 0.25),
        ("p99.9=1s", "p999", 1.0),
        ("p999=1s", "p999", 1.0),
        ("errors=0.1%", "errors", 0.001),
        ("errors=0.02", "errors", 0.02),
    ],
)
def test_objectives_are_read_as_people_write_them(text, name, limit):
    objective = slo.parse(text)
    assert (objective.name, objective.limit) == (name, pytest.approx(limit))


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("p98=500ms", "unknown objective"),
        ("latency=1s", "unknown objective"),
        ("p99=0ms", "more than 0"),
        ("p99=-5ms", "not a duration"),
        ("p99=2h", "at most 1 h"),
        ("p99=fast", "not a duration"),
        ("errors=0", "more than 0"),
        ("errors=100%", "less than 100"),
        ("errors=-1%", "more than 0"),
        ("errors=lots", "fraction or a percentage"),
        ("p99", "not an objective"),
        ("", "not an objective"),
    ],
)
def test_bad_objectives_say_what_is_wrong(text, says):
    with pytest.raises(ValueError, match=says):
        slo.parse(text)


def test_a_percentile_needs_its_samples_before_it_is_judged():
    p99, p999 = slo.parse("p99=500ms"), slo.parse("p999=1s")
    assert (p99.samples, p999.samples, slo.parse("p50=1s").samples, slo.parse("p90=1s").samples) == (100, 1000, 2, 10)
    assert slo.samples((p99, p999)) == 1000
    thin = slo.judge(p99, figures(p99=0.2, count=99))
    assert thin["met"] is None and "99 samples" in thin["why"]
    assert slo.judge(p99, figures(p99=0.2, count=100))["met"] is True
    assert slo.judge(p999, figures(p99=0.2, count=999))["met"] is None


def test_a_latency_objective_is_met_at_or_under_its_limit():
    objective = slo.parse("p99=500ms")
    assert slo.judge(objective, figures(p99=0.5))["met"] is True
    over = slo.judge(objective, figures(p99=0.512))
    assert over["met"] is False and over["ratio"] == pytest.approx(1.024)


def test_a_percentile_a_timeout_set_meets_nothing():
    # 60 s timeouts, the p99 among them: at least 60 s, never "under 120 s".
    judged = slo.judge(slo.parse("p99=120s"), figures(p99=60.0, floor=60.0))
    assert judged["met"] is False and judged["why"].startswith("at least")
    assert slo.describe(judged) == "p99 <= 120.00 s: >= 60.00 s"


def test_the_error_objective_counts_every_non_2xx():
    objective = slo.parse("errors=1%")
    assert slo.judge(objective, figures(errors=10, requests=1000))["met"] is True
    failed = slo.judge(objective, figures(errors=11, requests=1000))
    assert failed["met"] is False and slo.describe(failed) == "errors <= 1 %: 1.1 %"
    assert slo.judge(objective, figures(requests=0))["met"] is None


def test_a_step_is_carried_only_when_every_objective_is_judged_and_met():
    given = slo.objectives([slo.parse("p99=500ms"), slo.parse("errors=1%")])
    assert slo.met(slo.verdicts(given, figures(p99=0.3)))
    assert not slo.met(slo.verdicts(given, figures(p99=0.3, count=50)))
    judged = slo.verdicts(given, figures(p99=0.9, errors=500))
    assert not slo.met(judged)
    # Failed by the most: half the requests failed (50x) beats a p99 1.8x over.
    assert slo.worst(judged)["name"] == "errors"
    assert slo.worst(slo.verdicts(given, figures(p99=0.3))) is None


def test_without_an_error_objective_one_is_assumed_and_latency_is_required():
    given = slo.objectives([slo.parse("p999=1s"), slo.parse("p50=100ms")])
    assert [o.name for o in given] == ["p50", "p999", "errors"]
    assert given[-1].limit == slo.DEFAULT_ERRORS
    with pytest.raises(ValueError, match="given twice: p99"):
        slo.objectives([slo.parse("p99=1s"), slo.parse("p99=2s")])
    with pytest.raises(ValueError, match="at least one latency objective"):
        slo.objectives([slo.parse("errors=1%")])
