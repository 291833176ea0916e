import pytest
from django.utils.datastructures import MultiValueDict

from asynclab.grammar import written
from asynclab.query import BadParameter, Query


def test_missing_parameters_take_their_default():
    query = Query({})
    assert query.number("delay", 1.0, 0, 30) == 1.0
    assert query.integer("n", 10, 1, 100) == 10
    assert query.choice("target", "sync", ("sync", "async")) == "sync"
    assert query.boolean("thread_sensitive", True) is True
    assert query.token("task_id") is None


def test_good_values_are_parsed():
    query = Query({"delay": "0.5", "n": "100", "target": "async", "task_id": "a-1.b_2", "on": "false"})
    assert query.number("delay", 1.0, 0, 30) == 0.5
    assert query.integer("n", 10, 1, 100) == 100
    assert query.choice("target", "sync", ("sync", "async")) == "async"
    assert query.token("task_id") == "a-1.b_2"
    assert query.boolean("on", True) is False
    query.check_unknown()


@pytest.mark.parametrize("read", ["number", "integer", "choice", "boolean", "token"])
def test_an_empty_value_is_an_error_not_the_default(read):
    query = Query({"x": ""})
    args = {"number": (1.0, 0, 30), "integer": (1, 0, 30), "choice": ("a", ("a", "b")), "boolean": (True,), "token": ()}
    with pytest.raises(BadParameter, match="is empty") as caught:
        getattr(query, read)("x", *args[read])
    assert (caught.value.name, caught.value.error) == ("x", "bad_parameter")


def test_a_repeated_name_is_an_error_naming_it():
    with pytest.raises(BadParameter) as caught:
        Query(MultiValueDict({"n": ["10", "20"], "delay": ["1"]}))
    assert (caught.value.name, caught.value.error) == ("n", "repeated_parameter")
    assert "2 times" in caught.value.message


def test_an_unknown_name_is_an_error_listing_the_parameters():
    query = Query(MultiValueDict({"n": ["5"], "concurency": ["5"]}))
    query.integer("n", 10, 1, 100)
    query.integer("concurrency", 10, 1, 100)
    with pytest.raises(BadParameter) as caught:
        query.check_unknown()
    assert (caught.value.name, caught.value.error) == ("concurency", "unknown_parameter")
    assert caught.value.fields == {"parameters": ["n", "concurrency"]}
    assert "takes n, concurrency" in caught.value.message


def test_an_endpoint_without_parameters_says_so():
    with pytest.raises(BadParameter, match="takes no parameters"):
        Query({"verbose": "true"}).check_unknown()


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "-0.1",
        "30.01",
        "nan",
        "inf",
        "-inf",
        "1e309",
        "0x10",
        # odd spellings of numbers that float() would take
        "+5",
        " 5",
        "5 ",
        "1_0",
        "\u0665",
        "05",
        "5.",
        ".5",
        "1e1",
        "1E1",
        "0.5.1",
        "１",
    ],
)
def test_numbers_outside_their_range_or_not_in_the_one_form_are_rejected(raw):
    with pytest.raises(BadParameter) as caught:
        Query({"delay": raw}).number("delay", 1.0, 0, 30)
    assert caught.value.name == "delay"
    assert caught.value.message.startswith("must be a number from 0 to 30, in digits")


@pytest.mark.parametrize("raw", ["0", "101", "1.5", "ten", "9" * 50, "+5", " 5", "1_0", "\u0665", "010", "1e1"])
def test_integers_outside_their_range_or_not_in_the_one_form_are_rejected(raw):
    with pytest.raises(BadParameter, match="whole number from 1 to 100"):
        Query({"n": raw}).integer("n", 10, 1, 100)


@pytest.mark.parametrize("raw", ["1", "0", "yes", "no", "on", "off", "True", "FALSE", " true"])
def test_booleans_are_true_or_false_only(raw):
    with pytest.raises(BadParameter, match="must be true or false"):
        Query({"flag": raw}).boolean("flag", True)


def test_unknown_choices_are_rejected():
    with pytest.raises(BadParameter, match="one of sync, async"):
        Query({"target": "http://evil.example/"}).choice("target", "sync", ("sync", "async"))


@pytest.mark.parametrize("raw", ["a b", "x" * 65, "<script>", "ü", "a/b"])
def test_tokens_are_short_and_plain(raw):
    with pytest.raises(BadParameter):
        Query({"task_id": raw}).token("task_id")


@pytest.mark.parametrize(("value", "text"), [(0.1, "0.1"), (1e-05, "0.00001"), (2.0, "2"), (30, "30"), (0.25, "0.25")])
def test_written_decimals_are_in_the_form_the_parser_reads(value, text):
    assert written(value) == text
    assert Query({"d": text}).number("d", None, 0, 100) == pytest.approx(value)
