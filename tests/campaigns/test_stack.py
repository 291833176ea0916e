"""campaigns/stack.py: a campaign's cells become steps; a failing step is recorded with why
and the rest still run; the report always runs; the run's record is a result file."""

import json
import os

import pytest

from campaigns import stack
from campaigns.stack import ROOT, Cell, Stack, Step


def cells():
    return [
        Cell({"SERVER_MODE": "wsgi"}, (("article",), ("sweep", "--levels", "20")), label="wsgi"),
        Cell({"SERVER_MODE": "asgi"}, (("article",),), label="asgi"),
    ]


def test_each_cell_is_up_its_runs_and_down_then_the_report():
    kinds = [(s.kind, s.knobs.get("SERVER_MODE"), s.args) for s in stack.steps(cells())]
    assert kinds == [
        ("up", "wsgi", ()),
        ("loadgen", "wsgi", ("article",)),
        ("loadgen", "wsgi", ("sweep", "--levels", "20")),
        ("down", "wsgi", ()),
        ("up", "asgi", ()),
        ("loadgen", "asgi", ("article",)),
        ("down", "asgi", ()),
        ("report", None, ()),
    ]


def test_a_step_is_the_command_make_or_compose_runs():
    compose = ["docker-compose"]
    assert Step("up", {"SERVER_MODE": "asgi"}).command(compose) == [
        "make",
        "--no-print-directory",
        "up",
        "SERVER_MODE=asgi",
    ]
    assert Step("loadgen", {"SERVER_MODE": "asgi"}, ("sweep", "--levels", "20")).command(compose) == [
        "docker-compose",
        "run",
        "--rm",
        "--no-deps",
        "loadgen",
        "sweep",
        "--levels",
        "20",
    ]
    assert Step("report").command(compose)[-1] == "report"


@pytest.fixture
def ran(monkeypatch):
    """What the stack ran, with the steps named in `fail` failing; no process is started."""
    log = []

    def run_step(step, compose, echo):
        log.append((step.kind, step.label, step.args))
        if (step.kind, step.label, step.args) in ran.fail:
            return 2, ["loadgen: --levels: levels from 1 to 10000: '0'"]
        return 0, []

    monkeypatch.setattr(stack, "run_step", run_step)
    monkeypatch.setattr(stack.subprocess, "run", lambda *a, **k: None)  # the final `make down`
    ran.log, ran.fail = log, set()
    return ran


def test_a_failing_step_is_recorded_and_every_other_step_still_runs(ran, tmp_path):
    ran.fail = {("loadgen", "wsgi", ("sweep", "--levels", "20"))}
    status = Stack(tmp_path, echo=lambda line: None).run("lab", cells())
    assert status == 1
    # Everything ran: the asgi half after the failed wsgi sweep, and the report at the end.
    assert [entry[0] for entry in ran.log] == ["up", "loadgen", "loadgen", "down", "up", "loadgen", "down", "report"]
    [record] = [json.loads(path.read_text()) for path in tmp_path.glob("*-campaign-lab-all.json")]
    assert record["experiment"] == "campaign" and record["failed"] == 1
    [failed] = [s for s in record["steps"] if s["status"] != "ok"]
    assert failed["args"] == ["sweep", "--levels", "20"] and failed["exit"] == 2
    assert failed["why"] == ["loadgen: --levels: levels from 1 to 10000: '0'"]


def test_a_stack_that_does_not_come_up_skips_its_runs_not_the_next_cell(ran, tmp_path):
    ran.fail = {("up", "wsgi", ())}
    assert Stack(tmp_path, echo=lambda line: None).run("lab", cells()) == 1
    assert [(kind, label) for kind, label, _ in ran.log] == [
        ("up", "wsgi"),
        ("down", "wsgi"),
        ("up", "asgi"),
        ("loadgen", "asgi"),
        ("down", "asgi"),
        ("report", ""),
    ]
    record = json.loads(next(tmp_path.glob("*-campaign-lab-all.json")).read_text())
    assert [s["status"] for s in record["steps"]][:4] == ["failed", "skipped", "skipped", "ok"]


def test_every_step_done_is_exit_status_zero(ran, tmp_path):
    assert Stack(tmp_path, echo=lambda line: None).run("lab", cells()) == 0
    record = json.loads(next(tmp_path.glob("*-campaign-lab-all.json")).read_text())
    assert record["failed"] == 0 and all(s["status"] == "ok" for s in record["steps"])


def test_a_dry_run_runs_nothing_and_writes_nothing(ran, tmp_path):
    lines = []
    assert Stack(tmp_path, dry_run=True, echo=lines.append).run("lab", cells()) == 0
    assert ran.log == [] and list(tmp_path.iterdir()) == []
    assert lines[0] == "== wsgi: make --no-print-directory up SERVER_MODE=wsgi"


def test_host_actions_run_at_their_time_while_the_step_runs_and_not_after(tmp_path):
    # Real processes: a step of 1.5 s, one action 0.3 s in, one 60 s in (after it ended).
    early, late = tmp_path / "early", tmp_path / "late"
    step = Step(
        "host",
        args=("sleep", "1.5"),
        during=((0.3, ("touch", str(early))), (60.0, ("touch", str(late)))),
    )
    lines = []
    code, _ = stack.run_step(step, ["docker-compose"], lines.append)
    assert code == 0 and early.exists() and not late.exists()
    assert any("not run, the step ended first" in line for line in lines)


def test_a_host_command_named_compose_runs_the_stacks_compose():
    assert Step("host", args=("compose", "stop", "backend")).command(["docker-compose"]) == [
        "docker-compose",
        "stop",
        "backend",
    ]


def test_a_campaign_with_its_own_folder_has_loadgen_write_there(monkeypatch, capsys):
    # make's RESULTS_DIR (./results) is what compose mounts as loadgen's /results: the
    # reference's JSON once landed there while its machine.json went to docs/reference.
    from campaigns.__main__ import main

    monkeypatch.setenv("RESULTS_DIR", "./results")
    assert main(["reference", "--dry-run"]) == 0
    assert os.environ["RESULTS_DIR"] == str(ROOT / "docs" / "reference")
