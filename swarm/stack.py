"""`python -m swarm.stack`: the Swarm stack file, generated from docker-compose.yml.

`docker stack deploy` cannot take the compose file as it is: it ignores `build` and
`depends_on` conditions, rejects `profiles`, and does not read `.env`. So the stack is made
from the same source at deploy time, with the host's knobs resolved as compose would
resolve them (the shell's environment over `.env`, over the compose file's defaults):

- the same services, images, knobs, healthchecks and hardening; `depends_on` becomes each
  service waiting for what it needs (the gateway: GATEWAY_BACKEND_WAIT; the backend: DB_WAIT);
- the same networks as attachable overlays, so `make swarm-lab`'s conductor joins them;
- loadgen as a pool of `loadgen replica` tasks (LOADGEN_REPLICAS), each told its node, with
  the replicas' secret as a Swarm secret (compose's) and the hosts it may load;
- per-role placement: a node labelled `asynclab.backend=true` (or gateway, loadgen) takes
  that role when any node has the label, and any node does otherwise;
- images from REGISTRY when it is set; nothing published (the conductor is on the overlay).

Left out, with why: netem (`network_mode: service:` has no Swarm form), the published ports
(a Swarm port is published on every node's every address), cpuset and security_opt (Swarm
has no such option: docs/swarm.md).

The output is JSON, which is YAML, with every `$` doubled so that `docker stack deploy`'s
own interpolation leaves the resolved values alone.

Over 250 lines: every translation from the compose file to a stack file is listed above,
each a few lines.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import yaml

from asynclab.config import ConfigError
from asynclab.knobs import read

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
# The stack file format with init, cap_add/cap_drop and tmpfs on Swarm.
VERSION = "3.8"
# The roles a node label can take, and the knob that scales each.
REPLICAS = {"backend": "BACKEND_REPLICAS", "gateway": "GATEWAY_REPLICAS", "loadgen": "LOADGEN_REPLICAS"}
ROLES = tuple(REPLICAS)
# Compose keys Swarm has a field for, copied as they are once resolved.
KEPT = (
    "image",
    "command",
    "entrypoint",
    "init",
    "read_only",
    "tmpfs",
    "cap_drop",
    "cap_add",
    "user",
    "ulimits",
    "stop_grace_period",
    "healthcheck",
    "secrets",
    "volumes",
    "networks",
)
# Compose services the stack has no form for.
LEFT_OUT = {"netem": "network_mode: service:backend has no Swarm form"}
REPLICA_PORT = 9100
# Exit 0 when something in the container listens on TCP port {port} (state 0A in /proc/net/tcp).
LISTENING = (
    "import sys; port = ':%04X' % {port}; rows = [r.split() for r in open('/proc/net/tcp').readlines()[1:]]; "
    "sys.exit(not any(r[1].endswith(port) and r[3] == '0A' for r in rows))"
)
# Where nothing orders the start, the gateway waits this long for the backend unless told.
BACKEND_WAIT = 120.0

_VARIABLE = re.compile(
    r"\$(?:\$|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?-)?(?P<default>[^}]*)\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


def dotenv(path: Path) -> dict[str, str]:
    """NAME=VALUE lines of an .env file, as compose reads them (comments, blank lines and
    surrounding quotes aside)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name.strip().removeprefix("export ").strip()] = value
    return values


def interpolate(value, env: Mapping[str, str]):
    """Compose's ${NAME}, ${NAME:-default}, ${NAME-default} and $$, through lists and maps."""
    if isinstance(value, str):

        def one(match: re.Match) -> str:
            if match.group(0) == "$$":
                return "$"
            name = match.group("braced") or match.group("bare")
            found = env.get(name)
            if match.group("op") == ":-" and not found:
                return match.group("default")
            if match.group("op") == "-" and found is None:
                return match.group("default")
            return found or ""

        return _VARIABLE.sub(one, value)
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    return value


def escaped(value):
    """Every `$` doubled, so that docker stack deploy's interpolation yields it back."""
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, list):
        return [escaped(item) for item in value]
    if isinstance(value, dict):
        return {key: escaped(item) for key, item in value.items()}
    return value


def environment(declared: Mapping, env: Mapping[str, str]) -> dict[str, str]:
    """A service's environment as compose passes it: a name with no value passes the host's
    value when it is set (and nothing otherwise); a value is interpolated."""
    resolved = {}
    for name, value in (declared or {}).items():
        if value is None:
            if name in env:
                resolved[name] = env[name]
        else:
            resolved[name] = interpolate(str(value), env)
    return resolved


def registry_image(image: str, registry: str) -> str:
    return f"{registry.rstrip('/')}/{image}" if registry else image


def placement(role: str, labelled: set[str]) -> dict:
    if role in labelled:
        return {"constraints": [f"node.labels.asynclab.{role} == true"]}
    return {}


def service(name: str, spec: dict, env: Mapping[str, str], labelled: set[str], registry: str) -> dict:
    """One compose service as a Swarm service."""
    out = {key: interpolate(spec[key], env) for key in KEPT if key in spec}
    # Every image of the lab's is built by make; a registry holds them all or none.
    out["image"] = registry_image(out["image"], registry)
    # Swarm ignores tmpfs's short form: a mount of type tmpfs is its form.
    if "tmpfs" in out:
        tmpfs = out.pop("tmpfs")
        mounts = [{"type": "tmpfs", "target": path} for path in ([tmpfs] if isinstance(tmpfs, str) else tmpfs)]
        out["volumes"] = [*out.get("volumes", []), *mounts]
    # Interpolation leaves text; the stack file's schema wants numbers here.
    for limit in out.get("ulimits", {}).values():
        limit.update({key: int(value) for key, value in limit.items()})
    out["environment"] = environment(spec.get("environment"), env)
    deploy: dict = {
        "restart_policy": {"condition": "any", "delay": "2s"},
        "endpoint_mode": read("SWARM_ENDPOINT_MODE", environ=env),
    }
    cpus = interpolate(str(spec.get("cpus", "0")), env)
    if cpus and float(cpus) > 0:
        deploy["resources"] = {"limits": {"cpus": cpus}}
    if name in ROLES:
        deploy["placement"] = placement(name, labelled)
        deploy["replicas"] = read(REPLICAS[name], environ=env)
    if name == "gateway":
        wait = read("GATEWAY_BACKEND_WAIT", environ=env) or BACKEND_WAIT
        out["environment"]["GATEWAY_BACKEND_WAIT"] = f"{wait:g}"
        # Its healthcheck fails until it serves, which is after the wait: Swarm must not
        # count that against it (a task failing its checks is replaced).
        out["healthcheck"]["start_period"] = f"{wait + 30:g}s"
    if name == "loadgen":
        out = replica(out, env)
    out["deploy"] = deploy
    return out


def replica(out: dict, env: Mapping[str, str]) -> dict:
    """The loadgen service as replicas: `loadgen replica` as the image's own user, nothing
    mounted, no capability added (it writes no results: the conductor does)."""
    for key in ("user", "cap_add", "command"):
        out.pop(key, None)
    out["volumes"] = [v for v in out.get("volumes", []) if isinstance(v, dict) and v.get("type") == "tmpfs"]
    out["entrypoint"] = ["python", "-m", "loadgen"]
    out["command"] = ["replica", "--listen", f"0.0.0.0:{REPLICA_PORT}"]
    # Swarm's templates: each task says where it runs, in the merged result. Its secret is
    # compose's (a Swarm secret here, at /run/secrets/loadgen_secret, where loadgen reads
    # it); the hosts it may load come as compose passes them, checked here already.
    out["environment"] = {"LOADGEN_NODE": "{{.Node.Hostname}}", "LOADGEN_SLOT": "{{.Task.Slot}}"}
    targets = env.get("LOADGEN_REPLICA_TARGETS")
    if targets is not None:
        if not targets.replace(",", " ").strip():
            raise ConfigError("LOADGEN_REPLICA_TARGETS is set but empty: name the hosts a replica may load")
        out["environment"]["LOADGEN_REPLICA_TARGETS"] = read("LOADGEN_REPLICA_TARGETS", environ=env)
    # Healthy: listening, as the kernel's socket table says. Not a connection, which the
    # replica would refuse and log as a stranger's; not a proof, whose imports cost a
    # healthcheck ten times the CPU on the cores being measured.
    probe = ["CMD", "python", "-c", LISTENING.format(port=REPLICA_PORT)]
    interval = interpolate("${HEALTHCHECK_INTERVAL:-5s}", env)
    # Its start (Python and loadgen's imports) takes seconds on a busy node: not a failure.
    out["healthcheck"] = {"test": probe, "interval": interval, "timeout": "3s", "retries": 3, "start_period": "30s"}
    return out


def wanted(compose: dict, env: Mapping[str, str]) -> list[str]:
    """The compose services the stack runs: those make up starts (DB and EDGE add theirs),
    and loadgen's replicas; never one Swarm cannot run."""
    profiles = {"loadgen"}
    if read("DB", environ=env) == "postgres":
        profiles.add("postgres")
    if read("EDGE", environ=env) == "nginx":
        profiles.add("nginx")
    return [
        name
        for name, spec in compose["services"].items()
        if name not in LEFT_OUT and (not spec.get("profiles") or set(spec["profiles"]) & profiles)
    ]


def stack(compose: dict, env: Mapping[str, str], labelled: set[str] = frozenset()) -> dict:
    registry = read("REGISTRY", environ=env)
    services = {
        name: service(name, compose["services"][name], env, labelled, registry) for name in wanted(compose, env)
    }
    used = {network for spec in services.values() for network in spec.get("networks", [])}
    networks = {
        name: {"driver": "overlay", "attachable": True, **({"internal": True} if (spec or {}).get("internal") else {})}
        for name, spec in compose["networks"].items()
        if name in used
    }
    out = {"version": VERSION, "services": services, "networks": networks}
    secrets = {s for spec in services.values() for s in spec.get("secrets", [])}
    if secrets:
        out["secrets"] = {
            name: {"file": str((ROOT / interpolate(compose["secrets"][name]["file"], env)).resolve())}
            for name in secrets
        }
    volumes = {v.split(":")[0] for spec in services.values() for v in spec.get("volumes", []) if isinstance(v, str)}
    if volumes & set(compose.get("volumes") or {}):
        out["volumes"] = {name: {} for name in volumes & set(compose["volumes"])}
    return escaped(out)


def labelled_roles() -> set[str]:
    """The roles some node of the active swarm is labelled for (asynclab.<role>=true)."""
    nodes = subprocess.run(["docker", "node", "ls", "-q"], capture_output=True, text=True, check=True).stdout.split()
    if not nodes:
        return set()
    found = subprocess.run(
        ["docker", "node", "inspect", "--format", "{{json .Spec.Labels}}", *nodes],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    labels = [json.loads(line) or {} for line in found.splitlines() if line.strip()]
    return {role for role in ROLES if any(node.get(f"asynclab.{role}") == "true" for node in labels)}


def host_environment(env_file: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """The shell's environment over .env's, as compose reads them."""
    return {**dotenv(env_file), **environ}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m swarm.stack", description=__doc__.splitlines()[0])
    parser.add_argument("--compose", type=Path, default=COMPOSE)
    parser.add_argument("--env-file", type=Path, default=ROOT / ".env")
    parser.add_argument("--out", type=Path, help="write here (default: stdout)")
    parser.add_argument("--no-labels", action="store_true", help="do not ask the swarm for node labels")
    args = parser.parse_args(argv)
    env = host_environment(args.env_file, os.environ)
    labelled = set() if args.no_labels else labelled_roles()
    text = json.dumps(stack(yaml.safe_load(args.compose.read_text()), env, labelled), indent=1) + "\n"
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
        print(f"wrote {args.out}" + (f" (roles placed by label: {', '.join(sorted(labelled))})" if labelled else ""))
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
