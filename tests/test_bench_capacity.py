"""bench/capacity_check.py's reading of hey: its CSV rows and a nearest-rank percentile."""

from bench.capacity_check import parse_csv, percentile


def test_heys_csv_rows_are_read_with_their_status_and_a_bad_line_is_skipped():
    text = (
        "response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset\n"
        "0.0123,0.0001,0,0,0.012,0,200,0.01\n"
        "0.5000,0.0001,0,0,0.5,0,503,0.02\n"
        "garbage\n"
    )
    assert parse_csv(text) == [(0.0123, 200), (0.5, 503)]


def test_the_percentile_is_the_nearest_rank_of_every_value():
    values = [i / 1000 for i in range(1, 101)]
    assert percentile(values, 99) == 0.099 and percentile(values, 50) == 0.05
    assert percentile([0.2], 99) == 0.2 and percentile([], 99) is None
