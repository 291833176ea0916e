"""swarm/stack.py: the stack file generated from the real docker-compose.yml agrees with
it on services, images, knobs, healthchecks and networks, and says what it changed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from swarm import stack

COMPOSE = yaml.safe_load(stack.COMPOSE.read_text())


def generated(labelled=frozenset(), **env):
    # Round-trip through JSON: what docker stack deploy reads is the text.
    return json.loads(json.dumps(stack.stack(COMPOSE, {key: str(value) for key, value in env.items()}, labelled)))


def test_the_stack_runs_the_services_make_up_starts_plus_the_loadgen_replicas():
    assert sorted(generated()["services"]) == ["backend", "gateway", "loadgen"]
    assert sorted(generated(DB="postgres", EDGE="nginx")["services"]) == [
        "backend",
        "edge",
        "gateway",
        "loadgen",
        "postgres",
    ]


def test_netem_is_left_out_because_swarm_has_no_shared_network_namespace():
    assert "netem" in COMPOSE["services"] and "netem" in stack.LEFT_OUT
    assert "netem" not in generated(DB="postgres", EDGE="nginx")["services"]


def test_images_healthchecks_and_hardening_are_the_composes():
    services = generated(DB="postgres", EDGE="nginx")["services"]
    for name, spec in services.items():
        compose = COMPOSE["services"][name]
        assert spec["image"] == stack.interpolate(compose["image"], {}), name
        for key in ("read_only", "cap_drop", "init", "stop_grace_period"):
            assert spec.get(key) == compose.get(key), (name, key)
        assert {"type": "tmpfs", "target": "/tmp"} in spec["volumes"], name
        assert "healthcheck" in spec and spec["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
    assert services["backend"]["healthcheck"]["test"] == COMPOSE["services"]["backend"]["healthcheck"]["test"]
    assert services["backend"]["ulimits"] == {"nofile": {"soft": 20000, "hard": 20000}}
    # compose's own build/ordering/publishing have no place in a stack.
    for spec in services.values():
        assert not {"build", "depends_on", "profiles", "ports", "cpuset", "security_opt", "tmpfs"} & set(spec)


def test_every_knob_compose_passes_through_reaches_the_same_service_when_set():
    passed = {
        name: [key for key, value in (spec.get("environment") or {}).items() if value is None]
        for name, spec in COMPOSE["services"].items()
    }
    env = {key: f"v-{key}" for keys in passed.values() for key in keys}
    env["GATEWAY_BACKEND_WAIT"] = "7"  # the one the generator reads itself
    env.update(DB="postgres", EDGE="nginx")
    services = generated(**env)["services"]
    for name in ("backend", "gateway", "postgres"):
        expected = {key: env.get(key) for key in passed[name]}
        expected = {key: value for key, value in expected.items() if value is not None}
        assert {key: services[name]["environment"].get(key) for key in expected} == expected, name
    # Unset knobs pass nothing, so the services' own defaults apply, as under compose.
    assert "SERVER_MODE" not in generated()["services"]["backend"]["environment"]


def test_the_networks_mirror_compose_as_attachable_overlays():
    out = generated(DB="postgres")
    assert set(out["networks"]) == set(COMPOSE["networks"])
    assert all(n["driver"] == "overlay" and n["attachable"] for n in out["networks"].values())
    assert out["networks"]["data"].get("internal") is True
    for name, spec in out["services"].items():
        assert spec["networks"] == COMPOSE["services"][name]["networks"], name


def test_loadgen_becomes_replicas_that_know_their_node_and_write_nothing():
    loadgen = generated(LOADGEN_REPLICAS=3)["services"]["loadgen"]
    assert loadgen["command"][0] == "replica" and loadgen["deploy"]["replicas"] == 3
    assert loadgen["environment"] == {"LOADGEN_NODE": "{{.Node.Hostname}}", "LOADGEN_SLOT": "{{.Task.Slot}}"}
    assert "user" not in loadgen and "cap_add" not in loadgen
    assert all(volume["type"] == "tmpfs" for volume in loadgen["volumes"])


def test_the_replicas_get_the_secret_as_a_swarm_secret():
    out = generated()
    loadgen = out["services"]["loadgen"]
    assert loadgen["secrets"] == ["loadgen_secret"]
    assert out["secrets"]["loadgen_secret"]["file"] == str((stack.ROOT / "build" / "loadgen-secret").resolve())
    # Only loadgen holds it: the services never see the replicas' secret.
    assert all(
        "loadgen_secret" not in spec.get("secrets", []) for name, spec in out["services"].items() if name != "loadgen"
    )


def test_a_replica_is_healthy_when_it_listens_and_the_check_never_connects(tmp_path):
    check = generated()["services"]["loadgen"]["healthcheck"]
    test = check["test"]
    assert test[:3] == ["CMD", "python", "-c"] and "connect" not in test[3]
    # The seconds a replica takes to start on a busy node are not failures.
    assert check["start_period"] == "30s"
    table = tmp_path / "tcp"
    header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"
    listening = "   0: 00000000:238C 00000000:0000 0A 00000000:00000000 00:00000000 00000000 10001\n"
    elsewhere = "   1: 0100007F:238C 0100007F:D431 01 00000000:00000000 00:00000000 00000000 10001\n"
    for rows, healthy in (([listening], True), ([elsewhere], False), ([], False)):
        table.write_text(header + "".join(rows))
        code = test[3].replace("/proc/net/tcp", str(table))
        assert (subprocess.run([sys.executable, "-c", code]).returncode == 0) is healthy, rows


def test_the_replicas_allow_list_comes_from_the_knob_and_an_empty_one_is_refused():
    assert "LOADGEN_REPLICA_TARGETS" not in generated()["services"]["loadgen"]["environment"]
    widened = generated(LOADGEN_REPLICA_TARGETS="gateway, Backend,edge,other.example")
    assert (
        widened["services"]["loadgen"]["environment"]["LOADGEN_REPLICA_TARGETS"] == "gateway,backend,edge,other.example"
    )
    for empty in ("", " , "):
        with pytest.raises(Exception, match="LOADGEN_REPLICA_TARGETS is set but empty"):
            generated(LOADGEN_REPLICA_TARGETS=empty)


def test_replicas_placement_and_registry_come_from_the_knobs():
    out = generated({"backend"}, BACKEND_REPLICAS=2, GATEWAY_REPLICAS=3, REGISTRY="registry.example:5000")
    services = out["services"]
    assert (services["backend"]["deploy"]["replicas"], services["gateway"]["deploy"]["replicas"]) == (2, 3)
    assert services["backend"]["deploy"]["placement"] == {"constraints": ["node.labels.asynclab.backend == true"]}
    assert services["gateway"]["deploy"]["placement"] == {}
    assert {spec["image"] for spec in services.values()} == {"registry.example:5000/asynclab:latest"}
    with pytest.raises(Exception, match="BACKEND_REPLICAS"):
        generated(BACKEND_REPLICAS=0)


def test_the_gateway_waits_for_the_backend_where_nothing_orders_the_start():
    gateway = generated()["services"]["gateway"]
    assert gateway["environment"]["GATEWAY_BACKEND_WAIT"] == f"{stack.BACKEND_WAIT:g}"
    assert gateway["healthcheck"]["start_period"] == f"{stack.BACKEND_WAIT + 30:g}s"
    assert generated(GATEWAY_BACKEND_WAIT=10)["services"]["gateway"]["environment"]["GATEWAY_BACKEND_WAIT"] == "10"


def test_dollars_are_doubled_so_stack_deploy_yields_them_back():
    postgres = generated(DB="postgres")["services"]["postgres"]
    # compose's $$POSTGRES_USER is a literal $ for the container's shell: stack deploy
    # interpolates once more, so the file holds $$ again.
    assert "$$POSTGRES_USER" in postgres["healthcheck"]["test"][1]
    assert generated(ALLOWED_HOSTS="a$b")["services"]["backend"]["environment"]["ALLOWED_HOSTS"] == "a$$b"


@pytest.mark.parametrize(
    "text, env, expected",
    [
        ("${A:-x}", {}, "x"),
        ("${A:-x}", {"A": ""}, "x"),
        ("${A-x}", {"A": ""}, ""),
        ("${A}", {"A": "1"}, "1"),
        ("$A/b", {"A": "1"}, "1/b"),
        ("$$A", {"A": "1"}, "$A"),
        ("${A:-0}", {"A": "2"}, "2"),
    ],
)
def test_interpolation_is_composes(text, env, expected):
    assert stack.interpolate(text, env) == expected


def test_the_shell_wins_over_dotenv(tmp_path):
    (tmp_path / ".env").write_text("# knobs\nSERVER_MODE=asgi\nWORKERS='2'\nexport LEAN=true\n\n")
    env = stack.host_environment(tmp_path / ".env", {"WORKERS": "3"})
    assert env == {"SERVER_MODE": "asgi", "WORKERS": "3", "LEAN": "true"}
