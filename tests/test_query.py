import pytest

from asynclab.query import BadParameter, Query


def test_missing_or_blank_parameters_take_their_default():
    query = Query({"delay": ""})
    assert query.number("delay", 1.0, 0, 30) == 1.0
    assert query.integer("n", 10, 1, 100) == 10
    assert query.choice("target", "sync", ("sync", "async")) == "sync"
    assert query.token("task_id") is None


def test_good_values_are_parsed():
    query = Query({"delay": "0.5", "n": "100", "target": "async", "task_id": "a-1.b_2"})
    assert query.number("delay", 1.0, 0, 30) == 0.5
    assert query.integer("n", 10, 1, 100) == 100
    assert query.choice("target", "sync", ("sync", "async")) == "async"
    assert query.token("task_id") == "a-1.b_2"


@pytest.mark.parametrize("raw", ["abc", "-0.1", "30.01", "nan", "inf", "-inf", "1e309", "0x10"])
def test_numbers_outside_their_range_or_not_numbers_are_rejected(raw):
    with pytest.raises(BadParameter) as caught:
        Query({"delay": raw}).number("delay", 1.0, 0, 30)
    assert caught.value.name == "delay"
    assert caught.value.message == "must be a number from 0 to 30"


@pytest.mark.parametrize("raw", ["0", "101", "1.5", "ten", "9" * 50])
def test_integers_outside_their_range_are_rejected(raw):
    with pytest.raises(BadParameter, match="whole number from 1 to 100"):
        Query({"n": raw}).integer("n", 10, 1, 100)


def test_unknown_choices_are_rejected():
    with pytest.raises(BadParameter, match="one of sync, async"):
        Query({"target": "http://evil.example/"}).choice("target", "sync", ("sync", "async"))


@pytest.mark.parametrize("raw", ["a b", "x" * 65, "<script>", "ü", "a/b"])
def test_tokens_are_short_and_plain(raw):
    with pytest.raises(BadParameter):
        Query({"task_id": raw}).token("task_id")
