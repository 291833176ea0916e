"""The GIL in /healthz and /telemetry (asynclab/gil.py): every worker's own
sys._is_gil_enabled(), and the one verdict a result may call free-threaded.

The host's Python has the GIL and, before 3.13, no way to say so: its servers report
null, never a guess. Free-threaded builds are checked in the compose tier
(tests/compose/test_freethreaded.py), on the interpreters the lab builds.
"""

import sys

import pytest

from asynclab import gil
from loadgen.probe import free_threaded


def test_the_service_runs_with_the_gil_if_any_worker_does():
    assert gil.verdict(True, [False, True])["gil_enabled"] is True
    assert gil.verdict(True, [False, None])["gil_enabled"] is None


def test_only_a_free_threaded_build_whose_every_worker_runs_without_it_is_free_threaded():
    assert gil.verdict(True, [False, False]) == {"gil_enabled": False, "free_threaded": True}
    assert gil.verdict(True, [False, True])["free_threaded"] is False
    assert gil.verdict(False, [False])["free_threaded"] is False
    assert gil.verdict(True, [])["free_threaded"] is False


def test_a_python_that_cannot_say_reports_none():
    assert gil.verdict(False, [None, None]) == {"gil_enabled": None, "free_threaded": False}


def test_this_interpreter_reports_what_it_is():
    expected = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else None
    state = gil.state(find_culprits=True)
    assert state["gil_enabled"] == expected
    assert state["free_threaded_build"] is gil.free_threaded_build()
    # Only a free-threaded build running with the GIL has a reason to give.
    assert state["reenabled_by"] is None or (state["free_threaded_build"] and state["gil_enabled"])


def test_the_extension_modules_are_those_loaded_from_shared_objects():
    import _json  # noqa: F401 - a C extension module of the standard library

    loaded = gil.extensions()
    assert "_json" in loaded and "json" not in loaded  # json itself is pure Python
    assert all(sys.modules[name].__spec__.origin.endswith(".so") for name in loaded)


def test_loadgen_judges_free_threading_from_the_workers_not_from_the_build():
    def health(build, workers, reason=None):
        return {"gil": {"free_threaded_build": build, "workers": workers, "reenabled_by": reason}}

    assert free_threaded(health(True, {"7": False, "8": False})) is True
    assert free_threaded(health(True, {"7": False, "8": True}, "uvloop.loop")) is False
    assert free_threaded(health(False, {"7": True})) is False
    assert free_threaded(health(True, {})) is False
    assert free_threaded(None) is None
    assert free_threaded({"status": "ok"}) is None  # a service from before the field


@pytest.mark.parametrize("mode", ["wsgi", "asgi"])
def test_healthz_and_telemetry_report_every_workers_gil(serve, mode):
    server = serve("backend", mode, WORKERS=2)
    expected = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else None
    status, health, _ = server.get("/healthz")
    assert status == 200, health
    assert health["gil_enabled"] == expected
    assert health["gil"]["free_threaded_build"] is gil.free_threaded_build()
    assert health["gil"]["free_threaded"] is False
    assert len(health["gil"]["workers"]) == 2 and set(health["gil"]["workers"].values()) == {expected}
    assert health["gil"]["reenabled_by"] is None
    status, telemetry, _ = server.get("/telemetry")
    assert status == 200
    assert [worker["gil_enabled"] for worker in telemetry["workers"]] == [expected, expected]
    assert sorted(health["gil"]["workers"]) == sorted(str(worker["pid"]) for worker in telemetry["workers"])


def test_the_modules_named_by_cpythons_warning_are_the_culprits():
    stderr = (
        "<frozen importlib._bootstrap>:488: RuntimeWarning: " + gil.WARNING + "uvloop.loop', which has not declared "
        "that it can run safely without the GIL. To override ...\n" + gil.WARNING + "ext'\n" + gil.WARNING + "ext'"
    )
    assert gil.named(stderr) == ["uvloop.loop", "ext"]
    assert gil.named("nothing to see") == []
