"""The cost model's arithmetic: capacity from per-aggregation costs and a budget, the
component that binds first, projections to more cores, and calibration from figures."""

import pytest

from loadgen import model
from loadgen.model import Budget, Cost

# A wsgi lab: a gateway thread per aggregation (0.1 s), a backend thread per call (10 x 0.1 s).
COSTS = {
    "gateway": Cost(cpu=0.004, hold=0.1),
    "backend": Cost(cpu=0.002, hold=1.0),
    "loadgen": Cost(cpu=0.0005),
}


def wsgi(cores=0.5, threads=10):
    return {
        "gateway": Budget(cores=cores, workers=1, pool=threads),
        "backend": Budget(cores=cores, workers=1, pool=threads),
        "loadgen": Budget(cores=1.0, workers=1),
    }


def test_the_binding_component_is_the_lowest_of_every_limit():
    found = model.predict(COSTS, wsgi(), latency=0.12)
    # Backend threads: 10 threads each held 1 s an aggregation -> 10/s; gateway CPU 0.85 x 0.5 / 0.004 = 106/s.
    assert found["rate"] == pytest.approx(10.0) and found["binding"] == "backend slots"
    assert found["limits"]["gateway"]["CPU"] == pytest.approx(106.25)
    assert found["limits"]["loadgen"] == {"CPU": pytest.approx(1700.0)}
    # Enough threads, and the gateway's CPU binds.
    roomy = model.predict(COSTS, wsgi(threads=500), latency=0.12)
    assert roomy["binding"] == "gateway CPU" and roomy["rate"] == pytest.approx(106.25)


def test_an_event_loop_holds_no_thread_and_a_gil_caps_a_worker_at_one_core():
    asgi = {"gateway": Cost(cpu=0.004), "backend": Cost(cpu=0.002)}
    budgets = {"gateway": Budget(cores=4.0, workers=2), "backend": Budget(cores=4.0, workers=2)}
    found = model.predict(asgi, budgets, latency=0.1)
    # Two workers use two of the four cores: 0.85 x 2 / 0.004.
    assert found["rate"] == pytest.approx(425.0) and found["binding"] == "gateway CPU"
    assert "slots" not in found["limits"]["gateway"]
    free = {name: Budget(cores=4.0) for name in budgets}
    assert model.predict(asgi, free, latency=0.1)["rate"] == pytest.approx(850.0)


def test_memory_in_flight_binds_by_littles_law():
    costs = {"gateway": Cost(cpu=0.0001, memory=1_000_000.0)}
    budgets = {"gateway": Budget(cores=1.0, memory=50_000_000.0)}
    # 50 requests in flight fit; at 0.5 s each that is 100 a second.
    found = model.predict(costs, budgets, latency=0.5)
    assert found["binding"] == "gateway memory" and found["rate"] == pytest.approx(100.0)


def test_a_projection_grows_workers_and_pools_with_the_cores_and_keeps_loadgen_its_own():
    projected = model.project(COSTS, wsgi(cores=0.5, threads=10), latency=0.12, cores=8)
    assert projected["projection"] is True and projected["cores"] == 8
    # 8 workers of 10 threads each: the backend's 80 threads carry 80/s, still the first to bind.
    assert projected["limits"]["backend"]["slots"] == pytest.approx(80.0)
    assert projected["binding"] == "backend slots"
    assert projected["limits"]["loadgen"]["CPU"] == pytest.approx(1700.0)
    at_16 = model.project(COSTS, wsgi(threads=500), latency=0.12, cores=16)
    assert at_16["binding"] == "loadgen CPU"


def test_calibration_divides_each_components_cpu_by_the_aggregations_it_served():
    figures = {
        "ok": 200,
        "p50": 0.11,
        "services": {
            "gateway": {
                "cpu_seconds": 0.8,
                "in_flight_peak": 4,
                "rss_peak_bytes": 60_000_000,
                "rss_idle_bytes": 52_000_000,
            },
            "backend": {"cpu_seconds": 0.4, "in_flight_peak": 40, "rss_peak_bytes": 1, "rss_idle_bytes": 2},
        },
        "loadgen": {"window_cpu_seconds": 0.1},
    }
    costs = model.calibrate(figures, n=10, delay=0.1, threads_held={"gateway": True, "backend": True})
    assert costs["gateway"] == Cost(cpu=0.004, hold=0.11, memory=2_000_000.0)
    assert costs["backend"] == Cost(cpu=0.002, hold=pytest.approx(1.0), memory=0.0)
    assert costs["loadgen"] == Cost(cpu=0.0005)
    looped = model.calibrate(figures, n=10, delay=0.1, threads_held={})
    assert looped["gateway"].hold == 0.0 and looped["backend"].hold == 0.0
    with pytest.raises(ValueError, match="successful aggregations"):
        model.calibrate({"ok": 0}, n=10, delay=0.1, threads_held={})


def test_a_model_without_any_limit_is_refused_and_the_check_is_a_ratio():
    with pytest.raises(ValueError, match="no component has a limit"):
        model.predict({"gateway": Cost(cpu=0.0)}, {"gateway": Budget(cores=1.0)}, latency=0.1)
    assert model.ratio(92.0, 100.0) == pytest.approx(0.92)


def health(workers, threads, cores, free=None):
    found = {"server": {"workers": workers, "threads": threads}, "cpu": {"cores": cores, "quota": cores}}
    if free is not None:
        found["gil"] = {"free_threaded_build": True, "workers": {"1": not free}}
    return found


def searched(gateway, backend, capacity=9.0):
    """A capacity result as loadgen/experiments/capacity.py writes it, its lowest met step at 5/s."""
    step = {
        "ok": 100,
        "p50": 0.11,
        "services": {
            "gateway": {"cpu_seconds": 0.4, "in_flight_peak": 1, "rss_peak_bytes": 1, "rss_idle_bytes": 1},
            "backend": {"cpu_seconds": 0.2, "in_flight_peak": 5, "rss_peak_bytes": 1, "rss_idle_bytes": 1},
        },
        "loadgen": {"window_cpu_seconds": 0.05},
    }
    return {
        "scenario": {"strategy": "gather", "n": 10, "delay": 0.1, "workers": 1},
        "environment": {"gateway": gateway, "backend": backend, "loadgen": {"cpu_count": 2}},
        "capacity": {"rate": capacity},
        "steps": [
            {"rate": 10.0, "met": False, "figures": {}},
            {"rate": 5.0, "met": True, "figures": step},
            {"rate": 7.0, "met": True, "figures": {**step, "ok": 1}},
        ],
    }


def test_the_check_calibrates_at_the_lowest_met_step_and_sets_prediction_beside_measurement():
    # wsgi: 1 worker x 10 threads each; half a core each.
    checked = model.check(searched(health(1, 10, 0.5), health(1, 10, 0.5)))
    assert checked["calibrated_at"] == 5.0
    assert checked["costs"]["gateway"]["cpu"] == pytest.approx(0.004)
    # The backend's 10 threads, each call holding one 0.1 s, 10 calls an aggregation: 10/s.
    assert checked["predicted"]["binding"] == "backend slots"
    assert checked["predicted"]["rate"] == pytest.approx(10.0)
    assert checked["ratio"] == pytest.approx(0.9)
    assert [p["cores"] for p in checked["projections"]] == [4.0, 8.0, 16.0]
    assert all(p["projection"] for p in checked["projections"])
    # asgi: no pool; the gateway's CPU binds, 0.85 x 0.5 / 0.004.
    looped = model.check(searched(health(1, None, 0.5), health(1, None, 0.5)))
    assert looped["predicted"]["binding"] == "gateway CPU"
    assert looped["predicted"]["rate"] == pytest.approx(106.25)


def test_a_free_threaded_worker_may_use_every_core_it_is_given():
    assert model.budget_of(health(1, None, 2.0)).usable_cores == 1.0
    assert model.budget_of(health(1, None, 2.0, free=True)).usable_cores == 2.0
    assert model.budget_of(health(1, None, 2.0, free=False)).usable_cores == 1.0


def test_no_check_without_the_services_budgets_or_telemetry():
    assert model.check(searched(None, health(1, 10, 0.5))) is None
    bare = searched(health(1, 10, 0.5), health(1, 10, 0.5))
    for step in bare["steps"]:
        step["figures"].pop("services", None)
    assert model.check(bare) is None
    bare["scenario"]["strategy"] = None
    assert model.check(bare) is None


def test_a_calibration_that_measured_no_cost_predicts_nothing_rather_than_failing():
    idle = searched(health(1, None, 0.5), health(1, None, 0.5))
    for step in idle["steps"]:
        for seen in (step["figures"].get("services") or {}).values():
            seen["cpu_seconds"] = 0.0
        if step["figures"].get("loadgen"):
            step["figures"]["loadgen"]["window_cpu_seconds"] = 0.0
    assert model.check(idle) is None


def test_two_windows_split_cpu_into_an_idle_share_and_a_margin_per_aggregation():
    # 0.03 cores busy with no load, 10 ms an aggregation: 120 aggregations in 24 s, then in 12 s.
    low, high = (0.03 * 24 + 0.01 * 120, 24.0, 120), (0.03 * 12 + 0.01 * 120, 12.0, 120)
    margin, idle = model.cpu_split(low, high)
    assert margin == pytest.approx(0.01) and idle == pytest.approx(0.03)
    # One window charges the idle share to every aggregation: 16 ms, not 10.
    assert model.cpu_split(low, (None, None, None)) == pytest.approx((0.016, 0.0))


def test_windows_that_make_no_line_charge_everything_to_the_aggregations():
    same_rate = model.cpu_split((1.2, 10.0, 100), (1.3, 10.0, 100))
    assert same_rate == pytest.approx((0.012, 0.0))
    # More CPU at the lower rate than a positive idle share allows: noise, not a line.
    assert model.cpu_split((2.0, 20.0, 100), (0.5, 10.0, 100)) == pytest.approx((0.02, 0.0))


def test_the_idle_share_comes_off_the_cores_before_the_aggregations_share_them():
    limits = model.limits(Cost(cpu=0.01, idle=0.025), Budget(cores=0.5, workers=1), latency=0.1)
    assert limits["CPU"] == pytest.approx((0.85 * 0.5 - 0.025) / 0.01)
    assert model.limits(Cost(cpu=0.01, idle=0.9), Budget(cores=0.5), latency=0.1)["CPU"] == 0.0


def test_the_check_calibrates_from_two_rates_and_a_projection_idles_once_per_worker():
    # asgi, no pool: the backend's CPU binds. At 5/s and 10/s, 120 aggregations each:
    # 0.02 cores idle, 10 ms an aggregation.
    result = searched(health(1, None, 0.5), health(1, None, 0.5), capacity=40.0)
    for rate in (5.0, 10.0):
        window = 120 / rate
        figures = {
            "ok": 120,
            "window": window,
            "p50": 0.11,
            "services": {
                "gateway": {"cpu_seconds": 0.001 * 120, "window": window},
                "backend": {"cpu_seconds": 0.02 * window + 0.01 * 120, "window": window},
            },
        }
        result["steps"].append({"rate": rate, "met": True, "figures": figures})
    result["steps"] = [s for s in result["steps"] if s["rate"] in (5.0, 10.0) and "window" in s["figures"]]
    checked = model.check(result)
    assert (checked["calibrated_at"], checked["calibrated_with"]) == (5.0, 10.0)
    assert checked["costs"]["backend"]["idle"] == pytest.approx(0.02)
    assert checked["predicted"]["binding"] == "backend CPU"
    assert checked["predicted"]["rate"] == pytest.approx((0.85 * 0.5 - 0.02) / 0.01)
    four = checked["projections"][0]
    # Four workers on four cores: four idle shares.
    assert four["cores"] == 4.0 and four["rate"] == pytest.approx((0.85 * 4 - 4 * 0.02) / 0.01)


def test_a_saved_search_is_read_with_todays_model_and_its_measurements_as_they_were(tmp_path):
    import json

    from loadgen import results

    saved = searched(health(1, 10, 0.5), health(1, 10, 0.5))
    saved |= {"experiment": "capacity", "model": {"ratio": 99.0}}
    saved["environment"]["server_mode"] = "wsgi"
    (tmp_path / "20261203T000000-capacity-wsgi.json").write_text(json.dumps(saved))
    (found,) = results.load(tmp_path).values()
    assert found["model"] == model.check(saved) and found["model"]["ratio"] == pytest.approx(0.9)
    assert found["steps"] == saved["steps"] and found["capacity"] == saved["capacity"]
