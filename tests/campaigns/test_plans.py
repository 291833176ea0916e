"""Every campaign's plan, read without Docker: the steps `python -m campaigns NAME --dry-run`
prints, checked against what the campaign promises."""

import os
import subprocess
import sys
from unittest import mock

import pytest

from asynclab.knobs import KNOBS
from asynclab.servers import SERVERS
from campaigns import CAMPAIGNS, edge_nginx, lab
from campaigns.chat import ARGS as CHAT_ARGS
from campaigns.stack import steps
from harness.live import ROOT
from loadgen.cli import build_parser


def dry_run(name, everything=False, **env):
    result = subprocess.run(
        [sys.executable, "-m", "campaigns", name, "--dry-run"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return [line for line in result.stdout.splitlines() if everything or line.startswith("== ")]


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
    assert resources == [
        ("resources", "--strategies", "gather"),
        ("resources", "--strategies", "gather", "--threads", "0", "--tasks", "0"),
    ]


def test_lab_takes_its_settings_from_the_environment():
    lines = dry_run("lab", LAB_MODES="asgi", BACKEND_CPUS="0", LAB_SWEEP="--levels 5")
    assert lines[0] == "== asgi: make --no-print-directory up SERVER_MODE=asgi GATEWAY_CPUS=0.5 BACKEND_CPUS=0"
    assert any(line.endswith("loadgen sweep --levels 5") for line in lines)
    assert lines[-1] == "== docker compose run --rm --no-deps loadgen report"


def loadgen_runs(name):
    return [s for s in steps(CAMPAIGNS[name].cells()) if s.kind == "loadgen"]


def test_servers_runs_the_matrix_on_every_mode_of_the_server_registry():
    runs = loadgen_runs("servers")
    assert [s.knobs["SERVER_MODE"] for s in runs] == list(SERVERS)
    assert all(s.args[0] == "servers" and "--repeat" in s.args for s in runs)


def test_versions_runs_every_django_the_knob_offers_in_both_modes_then_the_emulation():
    runs = loadgen_runs("versions")
    cells = [(s.knobs["DJANGO"], s.knobs["SERVER_MODE"], s.knobs.get("DJANGO31_THREADS")) for s in runs[::2]]
    expected = [(v, m, None) for v in KNOBS["DJANGO"].choices for m in ("asgi", "wsgi")]
    assert cells == [*expected, (KNOBS["DJANGO"].default, "asgi", "true")]
    assert {s.args[0] for s in runs[0::2]} == {"article"} and {s.args[0] for s in runs[1::2]} == {"versions"}


def test_streams_gives_thread_per_request_modes_fewer_streams():
    lines = dry_run("streams", STREAMS_MODES="wsgi asgi gevent runserver")
    levels = {line.split(": ")[0][3:]: line.split("--levels ")[1].split()[0] for line in lines if " streams " in line}
    assert levels == {"wsgi": "10,100", "asgi": "10,100,1000", "gevent": "10,100,1000", "runserver": "10,100"}
    assert all(s.knobs["GATEWAY_MAX_CALLS"] == "100000" for s in loadgen_runs("streams"))


def test_edge_nginx_measures_each_load_bare_and_through_nginx_with_its_cost():
    runs = loadgen_runs("edge-nginx")
    assert {s.knobs["EDGE"] for s in runs} == {"nginx"}
    costed = [s for s in runs if s.wrapper]
    assert [(s.wrapper[2], s.args[-1].split("/api")[0]) for s in costed[:2]] == [
        ("", "http://gateway:8000"),
        ("edge", "http://edge:8080"),
    ]
    assert len(costed) == 2 * 2 * 2  # modes x loops x (bare, nginx)
    assert [s.options for s in runs if s.args[0] == "slowclients"][:2] == [(), edge_nginx.THROUGH_NGINX]


def test_db_runs_every_variant_in_both_modes_and_refuses_an_unknown_one():
    runs = loadgen_runs("db")
    assert [(s.knobs["DB"], s.knobs["DB_POOL"], s.knobs["SERVER_MODE"]) for s in runs] == [
        (db, pool, mode)
        for db, pool in (("sqlite", "false"), ("postgres", "false"), ("postgres", "true"))
        for mode in ("wsgi", "asgi")
    ]
    result = subprocess.run(
        [sys.executable, "-m", "campaigns", "db", "--dry-run"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DB_VARIANTS": "oracle"},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "unknown variant 'oracle'" in result.stderr


def test_pinning_runs_the_same_sweep_unpinned_then_pinned():
    runs = loadgen_runs("pinning")
    assert [s.knobs.get("BACKEND_CPUSET") for s in runs] == [None, "0"] and runs[0].args == runs[1].args


def fault_runs(**env):
    """`make faults`'s loadgen runs with these settings, by fault (worker kills: wsgi's)."""
    with mock.patch.dict(os.environ, env):
        return {
            s.args[s.args.index("--fault") + 1] if "--fault" in s.args else "backend-stopped": s
            for s in steps(CAMPAIGNS["faults"].cells())
            if s.kind == "loadgen" and s.knobs.get("SERVER_MODE") in (None, "wsgi")
        }


def test_faults_stops_and_starts_the_backend_while_loadgen_runs():
    run = fault_runs()["backend-stopped"]
    assert run.args == ("faults",)
    assert run.during == ((15.0, ("compose", "stop", "backend")), (25.0, ("compose", "start", "backend")))
    lines = dry_run("faults", everything=True, FAULT_AT="5", FAULT_FOR="3", COMPOSE="docker-compose")
    assert (
        "   and at 5 s: docker-compose stop backend" in lines and "   and at 8 s: docker-compose start backend" in lines
    )


def test_faults_kills_a_backend_then_a_gateway_worker_under_each_mode_with_two_workers():
    killed = [s for s in loadgen_runs("faults") if "worker-killed" in " ".join(s.args)]
    assert [(s.knobs["SERVER_MODE"], s.args[2]) for s in killed] == [
        (mode, f"{service}-worker-killed")
        for mode in ("wsgi", "asgi", "gevent", "granian")
        for service in ("backend", "gateway")
    ]
    assert {s.knobs["WORKERS"] for s in killed} == {"2"}
    for step in killed:
        service = step.args[2].split("-")[0]
        assert step.during == (
            (15.0, ("compose", "exec", "-T", service, "python", "-m", "asynclab.fault", "kill-worker")),
        )
    lines = dry_run("faults", everything=True, FAULTS="worker-killed", FAULT_MODES="gevent", COMPOSE="docker-compose")
    assert "   and at 15 s: docker-compose exec -T gateway python -m asynclab.fault kill-worker" in lines
    assert [line for line in lines if line.startswith("== ") and " up " in line] == [
        "== a worker killed, gevent: make --no-print-directory up SERVER_MODE=gevent WORKERS=2"
    ]


def test_faults_cuts_the_backend_off_the_gateways_network_then_mends_it():
    run = fault_runs(FAULT_AT="5", FAULT_FOR="4")["network-cut"]
    assert run.during == (
        (5.0, ("python3", "-m", "campaigns.network", "disconnect", "backend", "internal")),
        (9.0, ("python3", "-m", "campaigns.network", "connect", "backend", "internal")),
    )


def test_faults_restarts_postgresql_under_a_load_that_queries_it():
    run = fault_runs()["postgres-restarted"]
    assert run.knobs == {"DB": "postgres", "DB_POOL": "false"}
    assert run.args[-2:] == ("--target", "db") and run.during == ((15.0, ("compose", "restart", "postgres")),)


def test_faults_runs_the_faults_it_is_given_and_refuses_others():
    assert list(fault_runs(FAULTS="network-cut")) == ["network-cut"]
    result = subprocess.run(
        [sys.executable, "-m", "campaigns", "faults", "--dry-run"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "FAULTS": "meteor"},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "unknown fault 'meteor'" in result.stderr


def test_a_compose_network_is_found_by_its_name_under_any_project():
    from campaigns.network import network_name

    assert network_name(["asynclab_edge", "asynclab_internal"], "internal") == "asynclab_internal"
    assert network_name(["lab-2_internal"], "internal") == "lab-2_internal"
    with pytest.raises(RuntimeError, match="no single network"):
        network_name(["asynclab_edge", "asynclab_data"], "internal")


def test_streams_5k_is_one_lean_uvicorn_worker():
    [run] = loadgen_runs("streams-5k")
    assert run.knobs == {"SERVER_MODE": "asgi", "WORKERS": "1", "LEAN": "true"} and "5000" in run.args


def test_chat_5k_is_the_issues_target_on_one_uvicorn_worker_then_redis_on_two():
    runs = loadgen_runs("chat-5k")
    assert [(s.knobs["SERVER_MODE"], s.knobs["CHANNEL_LAYER"], s.knobs["WORKERS"]) for s in runs] == [
        ("asgi", "memory", "1"),
        ("asgi", "redis", "2"),
    ]
    for run in runs:
        args = build_parser().parse_args(list(run.args))
        # 50 rooms of 100, one message per room a second: 5,000 deliveries a second.
        assert (args.members, args.rooms, args.senders, args.message_rate) == (5000, 50, 50, 50.0)


def test_chat_runs_every_asgi_mode_with_both_layers_on_one_and_two_workers():
    runs = loadgen_runs("chat")
    cells = [(s.knobs["SERVER_MODE"], s.knobs["CHANNEL_LAYER"], s.knobs.get("WORKERS")) for s in runs]
    asgi_modes = [mode for mode, server in SERVERS.items() if server.INTERFACE == "asgi"]
    assert sorted({mode for mode, _, _ in cells}) == sorted(asgi_modes)
    for mode in asgi_modes:
        # A mode without a WORKERS knob (daphne) stops when it is set: one process, left unset.
        counts = ("1", "2") if SERVERS[mode].WORKERS else (None,)
        assert [(layer, workers) for m, layer, workers in cells if m == mode] == [
            (layer, workers) for layer in ("memory", "redis") for workers in counts
        ]
    # The same workload in every cell.
    assert {s.args for s in runs} == {("chat", *CHAT_ARGS.split())}


def test_chat_takes_its_modes_layers_and_workload_from_the_environment():
    lines = dry_run("chat", CHAT_MODES="daphne", CHAT_LAYERS="redis", CHAT_ARGS="--members 20 --duration 2s")
    assert lines[0] == "== daphne, redis, 1 worker: make --no-print-directory up SERVER_MODE=daphne CHANNEL_LAYER=redis"
    assert lines[1].endswith("loadgen chat --members 20 --duration 2s")


@pytest.mark.parametrize("name", sorted(CAMPAIGNS))
def test_every_loadgen_command_a_campaign_runs_is_one_loadgen_accepts(name, monkeypatch):
    # loadgen's own parser, on the host: a campaign that hands loadgen a flag or a value it
    # refuses would fail that step on every run (make lab's sweep once did, on --rate-clients).
    from loadgen.cli import build_parser

    for variable in [v for v in os.environ if v.startswith("LOADGEN_")]:
        monkeypatch.delenv(variable)
    parser = build_parser()
    for step in loadgen_runs(name):
        try:
            parser.parse_args(list(step.args))
        except SystemExit as exit:
            pytest.fail(f"{name}: loadgen refuses {' '.join(step.args)} (exit {exit.code})")
