"""Compose tier: a small `make lab` end to end through campaigns, with one step made to fail.

The failure is a user's mistake, as one happens: LAB_SWEEP asks for concurrency 0, which
loadgen refuses (exit 2). The campaign must go on with the next step, write the report from
everything else it measured with the failed step named in it, and exit non-zero.
"""

import json
import os

import pytest

from tests.compose.project import isolated, run

pytestmark = pytest.mark.compose

PROJECT = f"asynclabcampaign{os.getpid()}"
HOST_KNOBS = ("SERVER_MODE", "WORKERS", "THREADS", "DB", "EDGE", "GATEWAY_CPUS", "BACKEND_CPUS")
SMALL = {
    "LAB_MODES": "asgi",
    # One article cell of short calls, and resources at a small scale: a minute, not thirteen.
    "LAB_ARTICLE": "--repeat 1 --strategies gather --targets async --delay 0.2",
    "LAB_SWEEP": "--strategies gather --levels 0",
    "LAB_RESOURCES": "--threads 200 --tasks 2000 -c 10 --duration 1s --warmup 0.5s --strategies gather",
}


@pytest.mark.timeout(900)
def test_a_failed_step_is_named_in_the_report_and_the_rest_is_measured(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    env = {**isolated(PROJECT, str(results), HOST_KNOBS), **SMALL}
    try:
        done = run("make", "lab", env=env, timeout=900)
    finally:
        run("make", "down", env=env)
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-3000:]
    assert "== failed (exit 2)" in output and "going on with the next step" in output
    # The steps after the failure ran: resources measured, the report written.
    assert list(results.glob("*-resources-asgi.json")), output[-3000:]
    assert list(results.glob("*-article-asgi.json")) and not list(results.glob("*-sweep-*.json"))
    # The campaign metered the engine's work for the lab on the host, and loadgen, in its
    # container, read it over each window; the meter's file went with the campaign.
    [resources] = [json.loads(path.read_text()) for path in results.glob("*-resources-asgi.json")]
    for cell in resources["cells"]:
        assert cell["figures"]["engine"]["cpu_seconds"] is not None, cell["figures"].get("engine")
        assert cell["figures"]["engine"]["cpu_seconds"] >= 0
        for seen in cell["figures"]["services"].values():
            # The container's whole CPU (every process in its cgroup) holds at least its servers'.
            assert seen["container_cpu_seconds"] >= seen["cpu_seconds"] - 0.05, seen
        assert cell["figures"]["loadgen"]["window_container_cpu_seconds"] is not None
    assert not (results / ".engine-meter").exists()
    [record] = [json.loads(path.read_text()) for path in results.glob("*-campaign-lab-all.json")]
    [failed] = [step for step in record["steps"] if step["status"] != "ok"]
    assert failed["args"][:1] == ["sweep"] and failed["exit"] == 2
    assert any("levels from 1 to 10000" in line for line in failed["why"]), failed
    report = (results / "report.md").read_text()
    assert "## The run" in report and "1 did not run to the end" in report and "`sweep --strategies" in report
    assert "## The article's table" in report and "## Resources: threads vs tasks" in report
    assert (results / "report.html").exists()
