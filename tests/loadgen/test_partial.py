"""loadgen stopped in the middle of a measurement (Ctrl-C: SIGINT; `docker compose stop`:
SIGTERM), as a user stops it: the real CLI in a process of its own against a live backend.
What it measured so far is a result marked partial, and it exits with the signal's status."""

import json
import resource
import signal
import subprocess
import sys
import time

import pytest

from harness.live import ROOT, LiveServer, serve_env
from loadgen import report

# The run is far longer than the test: only the signal ends it.
RUN = ["run", "--rate", "20", "-d", "120", "--warmup", "0", "--no-drain", "--quiet"]


@pytest.fixture(scope="module")
def backend():
    server = LiveServer("backend", "asgi").start()
    yield server
    server.stop()


def served(backend) -> int:
    _, body, _ = backend.get("/telemetry")
    return body["total"]["requests"]


def started(backend, results, file_size: int | None = None) -> subprocess.Popen:
    """loadgen running against the backend, returned once the backend has answered some of
    its measured requests (its one verifying request, then at least ten more)."""
    before = served(backend)

    def limited():
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))

    process = subprocess.Popen(
        [sys.executable, "-m", "loadgen", *RUN, backend.url + "/api/async/?delay=0.05"],
        cwd=ROOT,
        env=serve_env(LOADGEN_RESULTS=results, LOADGEN_GATEWAY_URL=backend.url, LOADGEN_BACKEND_URL=backend.url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=limited if file_size else None,
    )
    deadline = time.monotonic() + 30
    while served(backend) < before + 12:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "loadgen never loaded the backend"
        time.sleep(0.2)
    return process


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_stopped_run_keeps_what_it_measured_as_a_partial_result(backend, tmp_path, signum):
    process = started(backend, tmp_path)
    process.send_signal(signum)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 128 + signum, (out, err)
    [path] = tmp_path.glob("*.json")
    assert path.name.endswith("-run-partial-asgi.json")
    saved = json.loads(path.read_text())
    assert saved["experiment"] == "run"
    assert saved["partial"]["reason"] == signal.Signals(signum).name
    assert saved["partial"]["under_way_measured"] is True
    figures = saved["figures"]
    assert figures["requests"] > 0 and figures["ok"] > 0 and figures["histogram"]
    # The window is cut at the stop, not the 120 s asked for.
    assert figures["window"] < 60
    assert saved["environment"]["server_mode"] == "asgi"
    assert f"stopped by {signal.Signals(signum).name}" in err
    assert f"results (partial): {path}" in out
    # No temporary file is left beside it.
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_the_report_shows_a_partial_run_apart(backend, tmp_path):
    process = started(backend, tmp_path)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    assert report.render(tmp_path) is not None
    text = (tmp_path / "report.md").read_text()
    assert "## Runs stopped part way" in text
    [line] = [line for line in text.splitlines() if line.startswith("| run | asgi | SIGTERM")]
    # The one-run section never shows the cut run's figures as a whole run's.
    assert "## One run" not in text and "-run-partial-asgi.json" in line


def test_a_partial_result_that_cannot_be_written_is_on_stdout(backend, tmp_path):
    # A file size limit makes every write of a result fail as a full disk does (EFBIG;
    # Python ignores SIGXFSZ), while the empty file of loadgen's write check still passes.
    process = started(backend, tmp_path, file_size=1024)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 143, err
    assert "cannot write" in err and "Traceback" not in err
    shown = out.split("----- loadgen: unsaved result JSON begins -----\n")[1].split("\n-----")[0]
    saved = json.loads(shown)
    assert saved["partial"]["reason"] == "SIGTERM" and saved["figures"]["requests"] > 0
    # Nothing torn left behind: no result, no temporary file.
    assert list(tmp_path.iterdir()) == []


def test_a_stop_keeps_every_finished_measurement_and_the_one_under_way_cut_at_the_stop():
    from loadgen.plan import Plan
    from loadgen.stopped import Journal, counted, exit_status
    from loadgen.tally import Tally

    journal = Journal()
    journal.finished("c=1", {"requests": 5, "errors": 0})
    plan = Plan(urls=("http://127.0.0.1:9/",), rate=10, duration=60)
    tally = Tally()
    now = time.perf_counter()
    tally.started, tally.window_end = now - 1.0, now + 59.0
    for i in range(3):
        tally.sent += 1
        tally.add(now - 1.0 + i * 0.1, now - 1.0 + i * 0.1, now - 0.5, 200 if i else 502, None, False)
    tally.sent += 2  # two more sent, unanswered when the stop came
    with journal.measuring("c=10", plan, tally, time.process_time(), now - 1.0):
        journal.starting("c=10")
        result = journal.result("sweep", "SIGINT")
    assert result["experiment"] == "sweep" and result["measurements"] == [
        {"label": "c=1", "figures": {"requests": 5, "errors": 0}}
    ]
    info = result["partial"]
    assert (info["reason"], info["finished"], info["stopped_in"], info["under_way_measured"]) == (
        "SIGINT",
        1,
        "c=10",
        True,
    )
    figures = result["figures"]
    assert (figures["requests"], figures["errors"], figures["unanswered"]) == (3, 1, 2)
    # The window ends at the stop, a second in, not at the 60 s planned.
    assert 1.0 <= figures["window"] < 30
    assert counted(result) == 8 and exit_status("SIGINT") == 130 and exit_status("SIGTERM") == 143


def test_a_stop_before_anything_was_measured_says_so():
    from loadgen.stopped import Journal

    result = Journal().result("article", "SIGTERM")
    assert result["partial"]["under_way_measured"] is False and "figures" not in result
    assert result["environment"]["server_mode"] is None and result["measurements"] == []
