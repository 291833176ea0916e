"""`make capacity`'s plan, read without Docker: every mode users choose between, with the
article's client and the tuned one, at budgets that leave loadgen a core, each search
parsed by loadgen's own CLI as the container will."""

from asynclab.servers import SERVERS
from campaigns import CAMPAIGNS, capacity
from campaigns.stack import steps
from loadgen.cli import build_parser
from tests.campaigns.test_plans import dry_run


def test_capacity_searches_every_mode_with_both_clients_at_half_a_core_each_then_checks_the_model():
    plan = steps(capacity.cells())
    runs = [s for s in plan if s.kind == "loadgen"]
    assert [(s.knobs["SERVER_MODE"], s.knobs["BACKEND_CPUS"], s.args[-1]) for s in runs] == [
        (mode, "0.5", client) for mode in ("wsgi", "asgi", "gevent", "granian") for client in ("article", "auto")
    ] + [("wsgi", "0.25", "auto"), ("asgi", "0.25", "auto")]
    assert all(mode in SERVERS for mode in capacity.MODES)
    # Both services alike, at most half a core each: loadgen keeps a core of the two.
    ups = {(s.knobs["GATEWAY_CPUS"], s.knobs["BACKEND_CPUS"]) for s in plan if s.kind == "up"}
    assert ups == {("0.5", "0.5"), ("0.25", "0.25")}
    for run in runs:
        args = build_parser().parse_args(list(run.args))
        assert args.command == "capacity" and args.strategy == "gather" and args.client == run.args[-1]
        assert [o.text for o in args.objectives] == ["p99 <= 500.0 ms", "errors <= 0.1 %"]
        assert args.confirm >= 3 and args.max_steps <= 20 and args.budget <= 300


def test_capacity_runs_every_budget_given_and_is_listed_as_a_campaign():
    assert CAMPAIGNS["capacity"] is capacity and "min" in capacity.HELP
    lines = dry_run("capacity", CAPACITY_CPUS="0.25 0.5", CAPACITY_MODES="asgi", CAPACITY_CLIENTS="auto")
    # The model's check budget is one of those: not run twice.
    ups = [line for line in lines if " up " in line]
    assert ups == [
        "== asgi, 0.25 CPU each: make --no-print-directory up SERVER_MODE=asgi GATEWAY_CPUS=0.25 BACKEND_CPUS=0.25",
        "== asgi, 0.5 CPU each: make --no-print-directory up SERVER_MODE=asgi GATEWAY_CPUS=0.5 BACKEND_CPUS=0.5",
    ]
    assert sum(" loadgen capacity " in line for line in lines) == 2
    assert lines[-1] == "== docker compose run --rm --no-deps loadgen report"


def test_the_models_check_is_left_out_when_asked_or_when_its_configurations_are():
    assert sum(" loadgen capacity " in line for line in dry_run("capacity", CAPACITY_CHECK_CPUS="none")) == 8
    lines = dry_run("capacity", CAPACITY_MODES="gevent granian")
    assert sum(" loadgen capacity " in line for line in lines) == 4
