import pytest

from asynclab import timing


def test_header_is_in_milliseconds_and_skips_missing_metrics():
    assert timing.header({"app": 0.0123, "fanout": 1.0, "backend": None}) == "app;dur=12.300, fanout;dur=1000.000"


def test_parse_reads_what_header_writes():
    metrics = {"app": 0.0123, "fanout": 1.0, "call": 0.5, "backend": 0.25}
    assert timing.parse(timing.header(metrics)) == pytest.approx(metrics)


def test_parse_tolerates_other_servers_syntax():
    text = 'cache;desc="hit, warm", db;dur=53, app;desc=x;dur="2.5", total;dur=bad, cpu'
    assert timing.parse(text) == pytest.approx({"db": 0.053, "app": 0.0025})


@pytest.mark.parametrize("text", [None, "", ",,,", ";dur=5", "garbage"])
def test_parse_of_nothing_useful_is_empty(text):
    assert timing.parse(text) == {}
