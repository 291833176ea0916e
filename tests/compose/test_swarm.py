"""The lab as a Docker Swarm stack, on a throwaway single-node swarm: make swarm-push into
the local registry, make swarm-up from it, the article's gather cell and a short sweep
with two loadgen replicas, the merged result checked against the replicas' own, then
make swarm-down. The swarm is initialised only when this engine is in none, and left
afterwards; a swarm that was already there is left as it was.

Over 250 lines: one swarm is set up and torn down for the whole module, and each step of the
swarm run is checked against the last."""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path

import pytest
import yaml

from harness.live import free_port
from loadgen.stats import histogram_of
from tests.compose.project import isolated, run

pytestmark = pytest.mark.compose

STACK = f"asynclabtest{secrets.token_hex(3)}"
# The image this run built (make's LAB_IMAGE), never a tag another checkout may be building.
IMAGE = os.environ.get("LAB_IMAGE") or "asynclab:latest"
HOST_KNOBS = ("SERVER_MODE", "WORKERS", "THREADS", "DB", "EDGE", "LEAN", "DJANGO", "REGISTRY", "LOADGEN_REPLICAS")


def swarm_state() -> str:
    return run("docker", "info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip()


def attachments() -> list[tuple[str, str, list[str]]]:
    """(container, network, aliases) of every running container on a network of its own."""
    ids = run("docker", "ps", "-q").stdout.split()
    if not ids:
        return []
    found = run("docker", "inspect", "--format", "{{.Id}} {{json .NetworkSettings.Networks}}", *ids).stdout
    attached = []
    for line in found.splitlines():
        container, networks = line.split(" ", 1)
        for name, network in (json.loads(networks) or {}).items():
            if name not in ("bridge", "host", "none"):
                aliases = [a for a in network.get("Aliases") or [] if not container.startswith(a)]
                attached.append((container, name, aliases))
    return attached


def reattach(attached: list[tuple[str, str, list[str]]]) -> None:
    """Docker 20.10's `swarm leave` drops every running container's name and aliases from
    the embedded DNS of its networks (a container still has its address, but `backend` no
    longer resolves): a lab left running while the tests ran would lose its gateway's
    backend. Connecting each again to its networks, with its aliases, registers them again."""
    for container, network, aliases in attached:
        if run("docker", "network", "disconnect", network, container).returncode == 0:
            alias = [arg for name in aliases for arg in ("--alias", name)]
            run("docker", "network", "connect", *alias, network, container)


@pytest.fixture(scope="module")
def swarm():
    """An active swarm: this engine's own if it has one, else a new one for this module,
    left afterwards with every running container's names registered again (reattach)."""
    if swarm_state() == "active":
        yield False
        return
    # Refused while in no swarm, with how to start one: make never starts one itself.
    refused = run("make", "--no-print-directory", "swarm-up", timeout=120)
    assert refused.returncode != 0 and "docker swarm init" in refused.stdout + refused.stderr
    # A container already running on a network of its own, like a lab left up meanwhile.
    network = f"{STACK}probe"
    assert run("docker", "network", "create", network).returncode == 0
    started = run(
        *("docker", "run", "-d", "--rm", "--network", network, "--network-alias", "survivor"),
        *("--entrypoint", "sleep", IMAGE, "900"),
    )
    assert started.returncode == 0, started.stderr
    probe = started.stdout.strip()
    try:
        running = attachments()
        init = run("docker", "swarm", "init", "--advertise-addr", "127.0.0.1")
        assert init.returncode == 0, init.stderr
        try:
            # Our own node: label it for one role, so placement by label is exercised too.
            node = run("docker", "info", "--format", "{{.Swarm.NodeID}}").stdout.strip()
            labelled = run("docker", "node", "update", "--label-add", "asynclab.loadgen=true", node)
            assert labelled.returncode == 0, labelled.stderr
            yield True
        finally:
            left = run("docker", "swarm", "leave", "--force")
            still = set(run("docker", "ps", "-q", "--no-trunc").stdout.split())
            reattach([entry for entry in running if entry[0] in still])
            assert left.returncode == 0, left.stderr
        # The running container's alias still resolves on its network once the swarm is gone.
        assert run("docker", "exec", probe, "getent", "hosts", "survivor").returncode == 0
    finally:
        run("docker", "rm", "-f", probe)
        run("docker", "network", "rm", network)


@pytest.fixture(scope="module")
def stack(swarm, tmp_path_factory):
    results = tmp_path_factory.mktemp("swarm-results")
    env = isolated(f"{STACK}c", str(results), HOST_KNOBS)
    env.update(
        SWARM_STACK=STACK,
        SWARM_RESULTS_DIR=str(results),
        LOADGEN_REPLICAS="2",
        GATEWAY_REPLICAS="2",
        REGISTRY_PORT=str(free_port()),
    )
    registry = None
    try:
        pushed = run("make", "--no-print-directory", "swarm-push", env=env, timeout=900)
        assert pushed.returncode == 0, pushed.stdout + pushed.stderr
        registry = f"127.0.0.1:{env['REGISTRY_PORT']}"
        env["REGISTRY"] = registry
        up = run("make", "--no-print-directory", "swarm-up", env=env, timeout=600)
        assert up.returncode == 0, up.stdout + up.stderr
        yield env, results
    finally:
        down = run("make", "--no-print-directory", "swarm-down", env=env, timeout=300)
        ids = run("docker", "ps", "-q", "--filter", f"label=asynclab.registry={env['REGISTRY_PORT']}").stdout.split()
        if ids:
            run("docker", "rm", "-f", *ids)
        if registry:
            tagged = run("docker", "images", "--format", "{{.Repository}}:{{.Tag}}", f"{registry}/*").stdout.split()
            if tagged:
                run("docker", "image", "rm", *tagged)
        assert down.returncode == 0, down.stdout + down.stderr


def conductor(env: dict, results: Path, *argv: str):
    return run("docker/conductor.sh", env["SWARM_STACK"], str(results), *argv, env=env, timeout=600)


def newest(results: Path, experiment: str) -> dict:
    return json.loads(sorted(results.glob(f"*-{experiment}-*.json"))[-1].read_text())


def test_the_stack_runs_every_service_of_the_compose_lab_on_the_registrys_images(stack, swarm):
    env, _ = stack
    listed = run("docker", "stack", "services", STACK, "--format", "{{.Name}} {{.Replicas}} {{.Image}}", env=env)
    rows = sorted(line.split() for line in listed.stdout.splitlines())
    assert [(name, replicas) for name, replicas, _ in rows] == [
        (f"{STACK}_backend", "1/1"),
        (f"{STACK}_gateway", "2/2"),
        (f"{STACK}_loadgen", "2/2"),
    ]
    assert all(image.startswith(env["REGISTRY"] + "/") for _, _, image in rows)
    if swarm:  # a swarm of ours, its node labelled for loadgen alone
        constraints = {
            name: run(
                "docker", "service", "inspect", "--format", "{{json .Spec.TaskTemplate.Placement}}", f"{STACK}_{name}"
            ).stdout
            for name in ("backend", "loadgen")
        }
        assert "node.labels.asynclab.loadgen == true" in constraints["loadgen"]
        assert "Constraints" not in constraints["backend"]


STRANGER = """
import json, socket
found = []
for address in sorted({info[4][0] for info in socket.getaddrinfo("tasks.loadgen", 9100, type=socket.SOCK_STREAM)}):
    with socket.create_connection((address, 9100), timeout=60) as sock:
        plan = {"type": "plan", "plan": {"urls": ["http://example.invalid/"], "concurrency": 1000}}
        sock.sendall(json.dumps(plan).encode() + b"\\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
        found.append({"me": sock.getsockname()[0], "got": [json.loads(line)["type"] for line in data.splitlines()]})
print(json.dumps(found))
"""


def test_a_stranger_on_the_overlay_is_refused_by_every_replica_and_logged(stack):
    """Anything attached to the stack's attachable networks reaches the replicas: without
    the secret, each one refuses it and logs its address; the real conductor is served
    right after (the tests below)."""
    env, _ = stack
    # The replicas hold the secret as a Swarm secret, at /run/secrets/loadgen_secret.
    spec = run(
        "docker",
        "service",
        "inspect",
        "--format",
        "{{json .Spec.TaskTemplate.ContainerSpec.Secrets}}",
        f"{STACK}_loadgen",
    )
    assert f'"SecretName":"{STACK}_loadgen_secret"' in spec.stdout and '"Name":"loadgen_secret"' in spec.stdout, (
        spec.stdout
    )
    done = run(
        *("docker", "run", "--rm", "--network", f"{STACK}_edge", "--entrypoint", "python"),
        *(IMAGE, "-c", STRANGER),
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    found = json.loads(done.stdout)
    assert len(found) == 2 and all(entry["got"] == ["challenge", "refused"] for entry in found), found
    # Each replica logged it, with the stranger's address (the service's log gathers the tasks').
    deadline = time.monotonic() + 60
    while True:
        logs = run("docker", "service", "logs", "--raw", f"{STACK}_loadgen", timeout=120)
        lines = (logs.stdout + logs.stderr).splitlines()
        refused = [json.loads(line) for line in lines if '"replica-refused"' in line]
        peers = [event["peer"].rsplit(":", 1)[0] for event in refused]
        if peers.count(found[0]["me"]) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert peers.count(found[0]["me"]) == 2 and all("expected a proof" in e["why"] for e in refused), refused


def test_a_conductor_with_another_secret_is_refused(stack, tmp_path):
    env, results = stack
    other = tmp_path / "other-secret"
    other.write_text(secrets.token_urlsafe(32) + "\n")
    done = run(
        "docker/conductor.sh",
        STACK,
        str(tmp_path),
        "run",
        "--replicas",
        "2",
        "--no-drain",
        "http://gateway:8000/healthz",
        env={**env, "LOADGEN_SECRET_FILE": str(other)},
        timeout=600,
    )
    assert done.returncode == 2 and "refused our proof" in done.stderr, done.stdout + done.stderr
    assert not list(tmp_path.glob("*.json"))


def test_the_articles_gather_cell_runs_on_one_replica_and_matches(stack):
    env, results = stack
    done = conductor(env, results, "article", "--replicas", "2", "--strategies", "gather", "--targets", "async")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 replicas" in done.stderr
    result = newest(results, "article")
    (row,) = result["rows"]
    assert row["matches"], row["reason"]
    # One client: only one replica has any of it, and the result says which.
    (process,) = row["figures"]["loadgen"]["processes"]
    assert process["node"] and process["slot"] in ("1", "2")
    assert len(result["environment"]["loadgen"]["replicas"]) == 2


def test_a_sweep_on_two_replicas_merges_into_exactly_one_histogram(stack):
    env, results = stack
    done = conductor(
        env,
        results,
        "sweep",
        "--replicas",
        "2",
        "--strategies",
        "gather",
        "--clients",
        "auto",
        "--levels",
        "4",
        "--repeat",
        "1",
        "--duration",
        "2s",
        "--warmup",
        "0.5s",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (cell,) = newest(results, "sweep")["cells"]
    figures = cell["figures"]
    processes = figures["loadgen"]["processes"]
    assert sorted(p["slot"] for p in processes) == ["1", "2"] and figures["errors"] == 0
    added = histogram_of(processes[0]["histogram"])
    added.add(histogram_of(processes[1]["histogram"]))
    merged = histogram_of(figures["histogram"])
    assert merged.get_total_count() == added.get_total_count() == figures["requests"]
    for q in (50.0, 90.0, 99.0, 100.0):
        assert merged.get_value_at_percentile(q) == added.get_value_at_percentile(q)
    assert figures["rps"] == pytest.approx(sum(p["rps"] for p in processes))
    # Two clients each, ten calls of 0.1 s gathered: no aggregation under the delay.
    assert figures["p50"] >= 0.1
    # Both gateway tasks served some of the sweep's requests: loadgen's connections spread
    # over the addresses Swarm's DNS gives for the service.
    run_id = cell["figures"]["slowest"][0]["request_id"].split("-")[1][:6]
    tasks = run("docker", "ps", "-q", "--filter", f"label=com.docker.swarm.service.name={STACK}_gateway").stdout.split()
    logs = [run("docker", "logs", task) for task in tasks]
    served = [(log.stdout + log.stderr).count(f"lg-{run_id}") for log in logs]
    assert len(served) == 2 and all(served), served


def test_the_report_reads_the_merged_results(stack):
    env, results = stack
    done = conductor(env, results, "report")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "gather" in (results / "report.md").read_text()


@pytest.mark.parametrize(
    "knobs",
    [{}, {"DB": "postgres", "EDGE": "nginx"}, {"BACKEND_CPUS": "0.5", "BACKEND_REPLICAS": "2", "ALLOWED_HOSTS": "a$b"}],
    ids=["default", "postgres+nginx", "budgets"],
)
def test_docker_reads_the_generated_stack_as_generated(knobs, tmp_path):
    """`docker stack config` (the CLI's own loader, no swarm needed) takes every variant
    and, after its own interpolation, holds exactly what the generator wrote."""
    env = isolated(f"{STACK}v", str(tmp_path), HOST_KNOBS)
    env.update(knobs)
    out = tmp_path / "stack.yml"
    made = run(".venv/bin/python", "-m", "swarm.stack", "--no-labels", "--out", str(out), env=env)
    assert made.returncode == 0, made.stderr
    read = run("docker", "stack", "config", "-c", str(out), env=env)
    assert read.returncode == 0, read.stderr
    loaded, written = yaml.safe_load(read.stdout), json.loads(out.read_text())
    assert sorted(loaded["services"]) == sorted(written["services"])
    for name, spec in written["services"].items():
        unescaped = {key: value.replace("$$", "$") for key, value in spec["environment"].items()}
        assert loaded["services"][name].get("environment", {}) == unescaped, name
    if "ALLOWED_HOSTS" in knobs:
        assert loaded["services"]["backend"]["environment"]["ALLOWED_HOSTS"] == "a$b"
