"""The lab on a Swarm: `python -m swarm up|down|push|lab` (make swarm-up, swarm-down,
swarm-push, swarm-lab). Never initialises or leaves a swarm: that is yours to do.

- up: the stack file (swarm/stack.py), pushed images first when REGISTRY is set, `docker
  stack deploy`, then a wait until every service runs all its replicas past their
  healthchecks, failing early, with the failing tasks' errors and logs, once tasks keep failing;
- down: `docker stack rm`, then a wait until the stack's networks are gone;
- push: the images the stack runs into REGISTRY, or into a local registry on 127.0.0.1
  (docker-registry from Debian's packages; make builds its image);
- lab: the article's table and a short sweep through the conductor (docker/conductor.sh),
  every measurement on LOADGEN_REPLICAS replicas merged, then the report and `loadgen
  compare` against the compose run in RESULTS_DIR when there is one.

Settings are read once from the environment (make passes its command line there), each
default written here.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from asynclab.knobs import read

ROOT = Path(__file__).resolve().parent.parent
# make swarm-lab's sweep: gather with the tuned and the article's client at c = 20, each cell twice.
SWEEP = "--strategies gather --clients article,auto --levels 20 --repeat 2 --duration 3s --warmup 1s"
WAIT_TIMEOUT = 150.0
WAIT_FAILURES = 3


def setting(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def stack_name() -> str:
    return read("SWARM_STACK")


def stack_file() -> Path:
    return ROOT / "build" / f"stack-{stack_name()}.yml"


def docker(*args: str, check: bool = True, capture: bool = True) -> str:
    done = subprocess.run(["docker", *args], cwd=ROOT, capture_output=capture, text=True)
    if check and done.returncode != 0:
        raise SystemExit(f"docker {shlex.join(args)} failed:\n{(done.stderr or '').strip()}")
    return done.stdout if capture else ""


def check() -> None:
    """A manager of an active swarm, or a clear refusal saying what to do."""
    state = subprocess.run(
        ["docker", "info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    if state == "active true":
        return
    if state == "active false":
        raise SystemExit("make: this node is a swarm worker: run the swarm targets on a manager (docker node ls there)")
    raise SystemExit(
        "make: this Docker engine is in no swarm (docs/swarm.md). Start a single-node one with\n"
        "  docker swarm init --advertise-addr 127.0.0.1\n"
        "or join the nodes of yours; make never starts or leaves a swarm itself."
    )


def images(environ: dict[str, str] | None = None) -> list[str]:
    """The images the stack runs: the services', loadgen's, and PostgreSQL's or nginx's when
    DB or EDGE adds them."""
    env = os.environ if environ is None else environ
    found = [env.get("DJANGO_IMAGE") or "asynclab:latest", env.get("LAB_IMAGE") or "asynclab:latest"]
    if env.get("DB") == "postgres":
        found.append(env.get("POSTGRES_IMAGE") or "asynclab-postgres:latest")
    if env.get("EDGE") == "nginx":
        found.append(env.get("EDGE_IMAGE") or "asynclab-nginx:latest")
    return sorted(set(found))


def write_stack() -> Path:
    out = stack_file()
    subprocess.run([sys.executable, "-m", "swarm.stack", "--out", str(out)], cwd=ROOT, check=True)
    return out


def pending(listing: str) -> list[str]:
    """From `docker stack services --format '{{.Name}} {{.Replicas}}'`: the services not
    yet running all their replicas ('asynclab_backend 0/1'; '1/1 (max 1 per node)' is done)."""
    out = []
    for line in filter(None, (line.strip() for line in listing.splitlines())):
        _, _, replicas = line.partition(" ")
        running, _, rest = replicas.partition("/")
        wanted = rest.split()[0] if rest.split() else None
        if wanted is None or running.strip() != wanted:
            out.append(line)
    return out


def failures(stack: str) -> int:
    listing = docker("stack", "ps", stack, "--filter", "desired-state=shutdown", "--format", "{{.Error}}", check=False)
    return sum(1 for line in listing.splitlines() if line.strip())


def wait(stack: str) -> None:
    """Every service of the stack at all its replicas, each past its healthcheck (a Swarm
    task with a healthcheck counts as running only once healthy)."""
    deadline = time.monotonic() + float(setting("WAIT_TIMEOUT", str(WAIT_TIMEOUT)))
    limit = int(setting("WAIT_FAILURES", str(WAIT_FAILURES)))
    before = failures(stack)  # earlier deploys' failed tasks stay in the history
    while True:
        listing = docker("stack", "services", stack, "--format", "{{.Name}} {{.Replicas}}")
        waiting = pending(listing)
        if not waiting:
            print("healthy: " + " ".join(sorted(listing.split("\n"))).strip())
            return
        failed = failures(stack) - before
        # A task that keeps failing will not get healthy by waiting: say why at once.
        if failed >= limit or time.monotonic() > deadline:
            lines = [f"swarm: not every task of {stack} is healthy ({failed} failed tasks):", *waiting]
            for service in (line.split()[0] for line in waiting):
                tasks = docker(
                    "service",
                    "ps",
                    "--no-trunc",
                    "--format",
                    "  {{.Name}} on {{.Node}}: {{.CurrentState}} {{.Error}}",
                    service,
                    check=False,
                )
                lines += tasks.splitlines()[:5]
                lines += docker("service", "logs", "--tail", "20", service, check=False).splitlines()
            raise SystemExit("\n".join(lines))
        time.sleep(1)


def up() -> None:
    check()
    registry = read("REGISTRY")
    nodes = len(docker("node", "ls", "-q").split())
    if not registry and nodes > 1:
        raise SystemExit(
            f"make swarm-up: {nodes} nodes and no REGISTRY: the other nodes cannot pull this node's images "
            "(make swarm-push; docs/swarm.md)"
        )
    if registry:
        push()
    out = write_stack()
    resolve = [] if registry else ["--resolve-image", "never"]
    docker("stack", "deploy", "--prune", *resolve, "-c", str(out), stack_name(), capture=False)
    wait(stack_name())


def down() -> None:
    check()
    stack = stack_name()
    docker("stack", "rm", stack, capture=False)
    for _ in range(60):
        if not docker("network", "ls", "-q", "--filter", f"label=com.docker.stack.namespace={stack}").strip():
            return
        time.sleep(1)
    raise SystemExit("make swarm-down: the stack's networks are still there after 60 s")


def local_registry(port: str) -> str:
    """A registry on 127.0.0.1:port, started unless one of the lab's already runs there."""
    label = f"asynclab.registry={port}"
    if not docker("ps", "-q", "--filter", f"label={label}").strip():
        docker(
            "run",
            "-d",
            "--rm",
            "--label",
            label,
            "--read-only",
            "--tmpfs",
            "/tmp",
            "--cap-drop",
            "ALL",
            "--security-opt",
            "no-new-privileges:true",
            "-p",
            f"127.0.0.1:{port}:5000",
            setting("REGISTRY_IMAGE", "asynclab-registry:latest"),
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"make swarm-push: no registry answers on 127.0.0.1:{port}") from None
            time.sleep(0.2)
    print(f"local registry on 127.0.0.1:{port} (docker ps --filter label=asynclab.registry)")
    return f"127.0.0.1:{port}"


def push() -> None:
    given = read("REGISTRY")
    registry = given or local_registry(str(read("REGISTRY_PORT")))
    log = ROOT / "build" / "swarm-push.log"
    for image in images():
        docker("tag", image, f"{registry}/{image}")
        done = subprocess.run(["docker", "push", f"{registry}/{image}"], capture_output=True, text=True)
        log.write_text(done.stdout + done.stderr)
        if done.returncode != 0:
            raise SystemExit("\n".join((done.stdout + done.stderr).splitlines()[-20:]))
        print(f"pushed {registry}/{image}")
    if not given:
        print(f"make swarm-up REGISTRY={registry} deploys from it")


def lab() -> int:
    stack, replicas = stack_name(), str(read("LOADGEN_REPLICAS"))
    results = read("SWARM_RESULTS_DIR")
    start = time.monotonic()
    conductor = ["docker/conductor.sh", stack, results]
    runs = [
        ["article", "--replicas", replicas],
        ["sweep", "--replicas", replicas, *shlex.split(setting("SWARM_SWEEP", SWEEP))],
        ["report"],
    ]
    status = 0
    for args in runs:
        status = subprocess.run([*conductor, *args], cwd=ROOT).returncode or status
    compose_results = ROOT / read("RESULTS_DIR")
    if any(compose_results.glob("*-article-*.json")):
        print(f"== the compose run in {compose_results} beside this one (loadgen compare)")
        subprocess.run([sys.executable, "-m", "loadgen", "compare", str(compose_results), results], cwd=ROOT)
    print(f"swarm-lab done in {time.monotonic() - start:.0f} s: open {results}/report.md")
    return status


def stack() -> None:
    check()
    print(f"wrote {write_stack().relative_to(ROOT)}")


COMMANDS = {"stack": stack, "up": up, "down": down, "push": push, "lab": lab}
