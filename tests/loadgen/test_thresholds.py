import pytest

from loadgen.thresholds import failures, parse
from loadgen.units import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2s", 2.0),
        ("500ms", 0.5),
        ("1.5m", 90.0),
        ("250us", 0.00025),
        ("3", 3.0),
        (" 10 s ", 10.0),
        (".5s", 0.5),
    ],
)
def test_durations(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "-1s", "2 days", "s", "1e3s", "abc"])
def test_bad_durations(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_format_duration():
    assert [format_duration(x) for x in (None, 0.0005, 0.0123, 1.023)] == ["-", "500 us", "12.3 ms", "1.02 s"]


def test_conditions_hold_or_say_why():
    figures = {"p99": 1.5, "errors": 0, "rps": 90.0, "p50": 0.2}
    conditions = [parse("p99<2s"), parse("errors==0"), parse("rps >= 100"), parse("p50<=200ms")]
    assert failures(conditions, figures) == ["rps >= 100: rps was 90"]


def test_a_missing_figure_fails():
    assert failures([parse("p99<2s")], {"p99": None}) == ["p99<2s: no p99 was measured"]


@pytest.mark.parametrize("text", ["p99", "p99<", "latency<2s", "p99<fast", "errors=0"])
def test_bad_conditions(text):
    with pytest.raises(ValueError):
        parse(text)
