"""Every campaign's plan, read without Docker: the steps `python -m campaigns NAME --dry-run`
prints, checked against what the campaign promises."""

import subprocess
import sys

from campaigns import CAMPAIGNS, lab
from campaigns.stack import steps
from tests.live import ROOT


def dry_run(name, **env):
    result = subprocess.run(
        [sys.executable, "-m", "campaigns", name, "--dry-run"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if line.startswith("== ")]


def test_every_campaign_has_help_and_a_plan_ending_in_the_report():
    for name, campaign in CAMPAIGNS.items():
        assert campaign.HELP, name
        plan = steps(campaign.cells())
        assert plan[-1].kind == "report" and plan[0].kind == "up", name


def test_lab_is_the_article_sweep_and_resources_in_wsgi_then_asgi_at_half_a_core_each():
    plan = steps(lab.cells())
    runs = [(s.knobs["SERVER_MODE"], s.args[0]) for s in plan if s.kind == "loadgen"]
    assert runs == [(mode, what) for mode in ("wsgi", "asgi") for what in ("article", "sweep", "resources")]
    assert {(s.knobs["GATEWAY_CPUS"], s.knobs["BACKEND_CPUS"]) for s in plan if s.kind == "up"} == {("0.5", "0.5")}
    sweep = next(s.args for s in plan if s.kind == "loadgen" and s.args[0] == "sweep")
    assert "--rates" in sweep and "--repeat" in sweep
    # The memory of a parked thread and task is measured once, in the first mode.
    resources = [s.args for s in plan if s.kind == "loadgen" and s.args[0] == "resources"]
    assert resources == [("resources",), ("resources", "--threads", "0", "--tasks", "0")]


def test_lab_takes_its_settings_from_the_environment():
    lines = dry_run("lab", LAB_MODES="asgi", BACKEND_CPUS="0", LAB_SWEEP="--levels 5")
    assert lines[0] == "== asgi: make --no-print-directory up SERVER_MODE=asgi GATEWAY_CPUS=0.5 BACKEND_CPUS=0"
    assert any(line.endswith("loadgen sweep --levels 5") for line in lines)
    assert lines[-1] == "== docker compose run --rm --no-deps loadgen report"
