"""Fault injection's choice of calls: exact shares by task_id, and which fault wins (pure units)."""

import pytest

from backend.faults import Faults

NONE = dict.fromkeys(("drop", "hang", "fail", "invalid"), 0.0)


@pytest.mark.parametrize(
    ("rate", "n", "expected"), [(0.1, 100, 10), (0.1, 20, 2), (0.25, 8, 2), (1.0, 7, 7), (0.5, 9, 4)]
)
def test_a_rate_picks_exactly_that_share_of_task_ids(rate, n, expected):
    faults = Faults({**NONE, "fail": rate}, jitter=0)
    assert sum(faults.pick(str(i)) == "fail" for i in range(n)) == expected


def test_overlapping_faults_take_the_first_in_order():
    faults = Faults({"drop": 0.5, "hang": 0.0, "fail": 0.5, "invalid": 1.0}, jitter=0)
    assert [faults.pick(str(i)) for i in range(4)] == ["invalid", "drop", "invalid", "drop"]
