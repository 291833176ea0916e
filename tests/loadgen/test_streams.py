"""`loadgen streams` and `loadgen slowclients`, small, against live services: results with
the fields the report reads, and the properties each shows (a thread per stream under wsgi,
a buffered mismatched stream, slow clients holding gunicorn's threads)."""

import json
import subprocess
import sys

import pytest

from harness.live import ROOT


def loadgen(tmp_path, backend, gateway, *argv):
    done = subprocess.run(
        [sys.executable, "-m", "loadgen", *argv, "--gateway", gateway.url, "--backend", backend.url]
        + ["--results", str(tmp_path), "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (path,) = tmp_path.glob(f"*-{argv[0]}*.json")
    return json.loads(path.read_text()), done.stdout


@pytest.fixture(params=["asgi", "wsgi"])
def lab(request, serve):
    backend = serve("backend", request.param)
    return request.param, backend, serve("gateway", request.param, BACKEND_URL=backend.url)


def test_streams_holds_and_measures_every_view(tmp_path, lab):
    mode, backend, gateway = lab
    result, stdout = loadgen(
        tmp_path, backend, gateway, "streams", "--levels", "4", "--hold", "1s", "--ramp", "0.2s", "--interval", "0.25s"
    )
    assert result["experiment"] == "streams" and result["environment"]["server_mode"] == mode
    assert result["scenario"]["loadgen_nofile"]["fits"]
    cells = {cell["view"]: cell for cell in result["cells"]}
    assert set(cells) == {"async", "sync", "gateway"}
    for view, cell in cells.items():
        streams = cell["streams"]
        assert streams["outcomes"] == {"completed": 4, "cut": 0, "waiting": 0, "refused": 0, "failed": 0}, view
        assert streams["disordered"] == 0
        assert streams["established"] == 4 and streams["lag"]["count"] == streams["events"] > 0
        assert streams["lag_histogram"]["encoding"].startswith("HdrHistogram")
        assert streams["open_after"]["open"] == 0
        service = "gateway" if view == "gateway" else "backend"
        assert cell["figures"]["services"][service]["threads_peak"] >= 1
        assert streams["per_stream"][service] is not None
        assert cell["figures"]["requests"] > 0 and cell["figures"]["errors"] == 0
        # What bounded the cell: the serving service did the work of 4 streams (its CPU > 0,
        # under one core's worth per worker over the cell), opened at 4 / 0.2 s.
        found = streams["load"]
        assert found["open_rate"] == pytest.approx(20)
        assert 0 < found["service_cpu_seconds"] and 0 < found["service_cpu_share"] < 2, view
        assert 0 < found["loadgen_cpu_share"] and 0 <= found["machine_busy_share"] <= 1
    # The mismatched view arrives whole at the end: its first event no sooner than the stream's length.
    mismatched = "sync" if mode == "asgi" else "async"
    length = cells[mismatched]["length"]
    assert cells[mismatched]["streams"]["first_event"]["min"] >= length - 0.3
    matched = "async" if mode == "asgi" else "sync"
    assert cells[matched]["streams"]["first_event"]["max"] < length / 2
    assert "streams, SERVER_MODE=" + mode in stdout


def test_stream_n_plus_one_waits_for_a_thread_under_wsgi(tmp_path, serve):
    backend = serve("backend", "wsgi", THREADS=2)
    gateway = serve("gateway", "wsgi", BACKEND_URL=backend.url)
    result, _ = loadgen(
        tmp_path, backend, gateway, "streams", "--levels", "4", "--views", "sync", "--hold", "1s", "--ramp", "0.2s"
    )
    streams = result["cells"][0]["streams"]
    # Two threads, four streams of 3 events 0.5 s apart (1 s), opened within 0.2 s: the last
    # two get a thread only when one of the first two ends (an end and the next first event
    # may be read in either order: at most 3 seen open at once, never 4), so their first
    # event waits a whole stream less the ramp, 1 - 0.2 s at least.
    assert streams["held_peak"] <= 3
    assert streams["outcomes"]["completed"] == 4
    assert streams["first_event"]["max"] >= 0.8


def test_slowclients_hold_gunicorns_threads_and_not_uvicorns(tmp_path, serve):
    found = {}
    for mode in ("wsgi", "asgi"):
        backend = serve("backend", "asgi")
        gateway = serve("gateway", mode, BACKEND_URL=backend.url, THREADS=4) if mode == "wsgi" else None
        gateway = gateway or serve("gateway", mode, BACKEND_URL=backend.url)
        result, _ = loadgen(
            tmp_path / mode,
            backend,
            gateway,
            "slowclients",
            "--levels",
            "8",
            "--shapes",
            "half",
            "--hold",
            "4s",
            "--ordinary-timeout",
            "2s",
        )
        assert [cell["shape"] for cell in result["cells"]] == ["none", "half"]
        baseline, held = result["cells"]
        assert baseline["concurrency"] == 0 and baseline["figures"]["errors"] == 0
        assert held["slow"]["connected"] == 8
        found[mode] = held["figures"]
    # 8 half-sent heads hold 4 gthread threads until they leave at 4 s: an ordinary request
    # sent in the window's first second (from 1 s on) waits more than its 2 s timeout.
    assert found["wsgi"]["timeouts"] > 0
    assert found["asgi"]["errors"] == 0


def test_sections_render_from_the_results(tmp_path, serve):
    backend = serve("backend", "asgi")
    gateway = serve("gateway", "asgi", BACKEND_URL=backend.url)
    loadgen(tmp_path, backend, gateway, "streams", "--levels", "2", "--hold", "0.5s", "--ramp", "0.1s")
    loadgen(tmp_path, backend, gateway, "slowclients", "--levels", "2", "--hold", "2s", "--shapes", "trickle")
    from loadgen import results
    from loadgen.sections import ORDER

    latest = results.load(tmp_path)
    streams = ORDER["streams"].section(latest, tmp_path).lines
    slow = ORDER["slowclients"].section(latest, tmp_path).lines
    assert streams[0].startswith("## Long-lived") and slow[0].startswith("## Slow clients")
    assert (tmp_path / "streams-held.png").exists() and (tmp_path / "streams-held.svg").exists()
    assert any("| asgi | async | 2 |" in line for line in streams)
    assert any("| asgi | - | 2 | trickle |" in line for line in slow)


def test_load_says_what_bounded_a_cell():
    from loadgen.experiments import streams

    seen = {"cpu_seconds": 25.0}
    figures = {"loadgen": {"cpu_share": 0.4}, "machine": {"busy_share": 0.9}}
    found = streams.load(seen, figures, level=5000, ramp=20.0, elapsed=50.0)
    assert found == {
        "open_rate": 250.0,
        "service_cpu_seconds": 25.0,
        "service_cpu_share": 0.5,
        "loadgen_cpu_share": 0.4,
        "machine_busy_share": 0.9,
    }
    cell = {"view": "async", "streams": {"load": found}}
    assert streams._load(cell) == "opened 250/s, backend CPU 50% of a core, loadgen 40% of a core, machine busy 90%"
    # No telemetry from the service (it did not answer /telemetry): what is known still shows.
    missing = streams.load(None, {}, level=10, ramp=0.0, elapsed=5.0)
    assert missing["service_cpu_share"] is None and missing["open_rate"] is None
    assert streams._load({"view": "gateway", "streams": {"load": missing}}) == "-"
    assert streams._load({"view": "gateway", "streams": {}}) == "-"
