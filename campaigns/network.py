"""`python -m campaigns.network disconnect|connect SERVICE NETWORK`: take one service of the
running stack off one of its compose networks, or put it back (`make faults` cuts the
backend off the network it shares with the gateway, then mends it).

The container and the network are found from compose itself (`compose ps -q SERVICE`, the
container's own networks), never from a project or container name written here: the lab
names neither (docker-compose 1.29 and Compose v2 spell them differently).
"""

from __future__ import annotations

import json
import subprocess
import sys

from .stack import ROOT, compose_command

ACTIONS = ("disconnect", "connect")


def _run(command: list[str]) -> str:
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {(done.stderr or done.stdout).strip()}")
    return done.stdout.strip()


def network_name(names: list[str], network: str) -> str:
    """The full name of compose network `network` among a container's or the host's networks
    ("asynclab_internal" for "internal"): compose prefixes it with the project's name."""
    found = [name for name in names if name == network or name.endswith("_" + network)]
    if len(found) != 1:
        raise RuntimeError(f"no single network named like {network!r} among {', '.join(sorted(names)) or 'none'}")
    return found[0]


def container_of(service: str) -> str:
    found = _run([*compose_command(), "ps", "-q", service]).split()
    if len(found) != 1:
        raise RuntimeError(f"{service}: {len(found)} containers running, expected 1")
    return found[0]


def networks_of(container: str) -> list[str]:
    return list(json.loads(_run(["docker", "inspect", "--format", "{{json .NetworkSettings.Networks}}", container])))


def project_networks(container: str) -> list[str]:
    """Every network of the container's compose project (a disconnected one included)."""
    labels = json.loads(_run(["docker", "inspect", "--format", "{{json .Config.Labels}}", container]))
    project = labels.get("com.docker.compose.project", "")
    listed = _run(
        ["docker", "network", "ls", "--filter", f"label=com.docker.compose.project={project}", "--format", "{{.Name}}"]
    )
    return listed.split()


def act(action: str, service: str, network: str) -> str:
    container = container_of(service)
    if action == "disconnect":
        name = network_name(networks_of(container), network)
        _run(["docker", "network", "disconnect", name, container])
    else:
        name = network_name(project_networks(container), network)
        # Its service name as the alias again, as compose gave it: the gateway calls it by name.
        _run(["docker", "network", "connect", "--alias", service, name, container])
    return f"{service} {action}ed {'from' if action == 'disconnect' else 'to'} {name}"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3 or args[0] not in ACTIONS:
        print("usage: python -m campaigns.network disconnect|connect SERVICE NETWORK", file=sys.stderr)
        return 2
    try:
        print(act(*args), flush=True)
    except (RuntimeError, OSError, ValueError) as exc:
        print(f"campaigns.network: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
