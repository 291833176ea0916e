import pytest

from asynclab import requestid


@pytest.mark.parametrize("value", ["a", "lg-3f2a-17", "x" * 64, "A.b_c:d-e", "x" * 64 + ".999", "abc.1.2"])
def test_safe_ids_are_kept(value):
    assert requestid.accept(value) == (value, True)


@pytest.mark.parametrize(
    "value", [None, "", "x" * 65, "x" * 64 + ".12345", "a b", "a\nb", "naïve", "<x>", "a;b", "a/b"]
)
def test_missing_long_or_unsafe_ids_are_replaced_by_a_new_one(value):
    replaced, from_client = requestid.accept(value)
    assert not from_client
    assert requestid.VALID.fullmatch(replaced) and len(replaced) == 16


def test_new_ids_differ():
    assert len({requestid.new() for _ in range(1000)}) == 1000


def test_a_call_id_of_the_longest_request_id_is_still_valid():
    longest = "x" * requestid.MAX_LENGTH
    assert requestid.accept(requestid.call_id(longest, 999)) == (longest + ".999", True)
