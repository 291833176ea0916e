"""The server side's cost of a chat run, from the figures loadgen read (loadgen/chatcost.py)."""

import pytest

from loadgen import chatcost


def counters(cpu: float, memory: int, peak: int, clients: int) -> dict:
    found = {"cpu_seconds": cpu, "memory_bytes": memory, "memory_peak_bytes": peak, "clients": clients}
    return {"version": "7.0.15", **found}


REDIS_BEFORE = counters(1.5, 1_000_000, 1_200_000, 3)
REDIS_AFTER = counters(3.5, 1_500_000, 4_000_000, 5)


def test_redis_cpu_is_its_counter_over_the_run_and_memory_its_last_reading():
    found = chatcost.redis({"redis": REDIS_BEFORE}, {"redis": REDIS_AFTER}, seconds=10.0, delivered=4000)
    assert found["cpu_seconds"] == 2.0 and found["cpu_share"] == 0.2
    assert found["cpu_ms_per_delivery"] == pytest.approx(0.5)
    memory = (found["memory_bytes"], found["memory_growth_bytes"], found["memory_peak_bytes"])
    assert memory == (1_500_000, 500_000, 4_000_000)
    assert found["clients"] == 5 and found["version"] == "7.0.15"


def test_the_in_memory_layer_has_no_redis_figures():
    assert chatcost.redis({"redis": None}, {"redis": None}, seconds=10.0, delivered=10) is None
    assert chatcost.redis(None, None, seconds=10.0, delivered=10) is None


def test_a_failed_or_missing_redis_read_is_an_error_not_a_figure():
    failed = {"redis": {"error": "TimeoutError: Timeout reading from socket"}}
    assert chatcost.redis({"redis": REDIS_BEFORE}, failed, seconds=10.0, delivered=10) == failed["redis"]
    assert chatcost.redis(None, {"redis": REDIS_AFTER}, seconds=10.0, delivered=10) == {"error": "Redis was not read"}


def test_no_deliveries_give_no_cost_per_delivery():
    found = chatcost.redis({"redis": REDIS_BEFORE}, {"redis": REDIS_AFTER}, seconds=10.0, delivered=0)
    assert found["cpu_ms_per_delivery"] is None and found["cpu_seconds"] == 2.0


def test_backend_cost_per_member_is_above_idle_and_per_delivery_over_the_sending_window():
    seen = {"threads_peak": 12, "threads_idle": 2, "rss_peak_bytes": 60_000_000, "rss_idle_bytes": 50_000_000}
    found = chatcost.backend(seen, {"cpu_seconds": 2.0, "window": 4.0}, members=100, delivered=1000)
    assert found == {
        "threads_per_member": 0.1,
        "rss_bytes_per_member": 100_000,
        "cpu_ms_per_delivery": 2.0,
        "cpu_share_sending": 0.5,
    }
    assert chatcost.backend(None, None, members=100, delivered=0) is None
