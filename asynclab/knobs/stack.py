"""The host's knobs: what compose publishes and how it limits the containers (compose/host),
loadgen's on the host side (loadgen-host), the images (image) and the Swarm stack (swarm),
in the order they are documented in.

Host-only: .dockerignore keeps this module out of the image, and the package imports
without it (asynclab/knobs/__init__.py). A knob code in the image reads is declared in
services.py's IN_CONTAINERS and only placed here, where it is documented.
"""

from __future__ import annotations

from .knob import (
    HOST,
    IMAGE,
    LOADGEN,
    SWARM,
    Knob,
)
from .services import IN_CONTAINERS

KNOBS: list[Knob] = [
    # --- compose/host ------------------------------------------------------------------
    Knob("GATEWAY_PORT", 8000, "host port of the gateway", HOST, ("compose",), low=1, high=65535, compose=True),
    Knob("BACKEND_PORT", 8001, "host port of the backend", HOST, ("compose",), low=1, high=65535, compose=True),
    Knob(
        "EDGE",
        "none",
        "what stands in front of the gateway: none, or nginx (a buffering reverse proxy, the edge service; "
        "docs/streams.md)",
        HOST,
        ("make",),
        str.lower,
        choices=("none", "nginx"),
    ),
    Knob(
        "EDGE_PORT",
        8002,
        "host port of nginx in front of the gateway (EDGE=nginx)",
        HOST,
        ("compose",),
        low=1,
        high=65535,
        compose=True,
    ),
    Knob(
        "NOFILE",
        20000,
        "open files per container (compose ulimits nofile, soft and hard): a socket per connection, 5,000 streams "
        "through the gateway need about 10,000; more than the Docker daemon's own limit fails at start",
        HOST,
        ("compose",),
        low=256,
        high=1048576,
        compose=True,
    ),
    Knob(
        "PUBLISH_HOST",
        "127.0.0.1",
        "host address the ports are published on (loopback, not your LAN)",
        HOST,
        ("compose",),
        compose=True,
    ),
    Knob(
        "HEALTHCHECK_INTERVAL",
        "5s",
        "how often Docker runs each container's healthcheck (a short Python process)",
        HOST,
        ("compose",),
        compose=True,
    ),
    # CPU budgets and pinning, per container: recorded with every result (asynclab/cpu.py
    # reads what the kernel enforces, in each service's /healthz).
    *(
        knob
        for service in ("backend", "gateway", "loadgen")
        for knob in (
            Knob(
                f"{service.upper()}_CPUS",
                0,
                f"cores' worth of CPU time the {service} container may use (compose cpus); 0 = no limit",
                HOST,
                ("compose",),
                float,
                low=0,
                high=64,
                compose=True,
            ),
            Knob(
                f"{service.upper()}_CPUSET",
                "",
                f"CPUs the {service} container may run on, e.g. 0 or 0-1 (compose cpuset); empty = any",
                HOST,
                ("compose",),
                compose=True,
            ),
        )
    ),
    # --- loadgen-host ------------------------------------------------------------------
    Knob(
        "LAB_UID",
        0,
        "user loadgen runs as; 0 (or empty) = the owner of RESULTS_DIR (it starts as root only to become that owner)",
        LOADGEN,
        ("compose",),
        compose=True,
    ),
    Knob(
        "LAB_GID",
        0,
        "group loadgen runs as; 0 (or empty) = the group of RESULTS_DIR",
        LOADGEN,
        ("compose",),
        compose=True,
    ),
    Knob(
        "RESULTS_DIR",
        "./results",
        "host folder loadgen writes its results and report to (starts with ./ or /)",
        LOADGEN,
        ("compose", "make"),
        compose=True,
    ),
    Knob("GIT_COMMIT", "", "recorded with every result; make sets it from git rev-parse", LOADGEN, ("loadgen", "make")),
    # --- swarm -------------------------------------------------------------------------
    Knob("SWARM_STACK", "asynclab", "the stack's name (docker stack deploy ... NAME)", SWARM, ("swarm",)),
    Knob("BACKEND_REPLICAS", 1, "backend tasks, behind Swarm's virtual IP", SWARM, ("swarm",), low=1, high=64),
    Knob("GATEWAY_REPLICAS", 1, "gateway tasks, behind Swarm's virtual IP", SWARM, ("swarm",), low=1, high=64),
    Knob(
        "LOADGEN_REPLICAS",
        2,
        "loadgen replica tasks (`loadgen replica`); make swarm-lab runs every measurement on all of them "
        "and merges their histograms (loadgen --replicas)",
        SWARM,
        ("swarm",),
        low=1,
        high=64,
    ),
    IN_CONTAINERS["LOADGEN_SECRET_FILE"],
    IN_CONTAINERS["LOADGEN_REPLICA_TARGETS"],
    Knob(
        "SWARM_ENDPOINT_MODE",
        "dnsrr",
        "how a stack's service name reaches its tasks: dnsrr = DNS answers with every task's address (works "
        "everywhere); vip = one virtual IP that IPVS balances per connection (needs the ip_vs kernel module, "
        "which this lab's CI machine lacks)",
        SWARM,
        ("swarm",),
        choices=("dnsrr", "vip"),
    ),
    Knob(
        "REGISTRY",
        "",
        "registry the stack's images come from, host[:port] (make swarm-push pushes them there); empty = the "
        "images on this node, which a single-node swarm needs no registry for",
        SWARM,
        ("swarm", "make"),
    ),
    Knob(
        "REGISTRY_PORT",
        5000,
        "port of the local registry make swarm-push starts when REGISTRY is empty (127.0.0.1 only)",
        SWARM,
        ("swarm",),
        low=1,
        high=65535,
    ),
    Knob(
        "SWARM_RESULTS_DIR",
        "./results/swarm",
        "host folder make swarm-lab writes its results and report to, apart from the compose runs'",
        SWARM,
        ("swarm",),
    ),
    # --- image -------------------------------------------------------------------------
    Knob(
        "LAB_IMAGE",
        "asynclab:latest",
        "the default image: loadgen's, and the backend's and gateway's on the default DJANGO",
        IMAGE,
        ("compose", "make"),
        compose=True,
    ),
    Knob(
        "EDGE_IMAGE",
        "asynclab-nginx:latest",
        "the edge service's image, nginx (make edge-image)",
        IMAGE,
        ("compose", "make"),
        compose=True,
    ),
    Knob(
        "BASE_IMAGE",
        "python:3.11-slim-bookworm",
        "base of the lab image when a registry is reachable",
        IMAGE,
        ("compose", "make"),
        compose=True,
    ),
    IN_CONTAINERS["DJANGO"],
    IN_CONTAINERS["PYTHON"],
    Knob(
        "DJANGO_IMAGE",
        "asynclab:latest",
        "the backend's and gateway's image; make sets it from DJANGO: LAB_IMAGE on the default Django, "
        "<LAB_IMAGE's name>:django-<version> otherwise, <LAB_IMAGE's name>:py<PYTHON> with PYTHON",
        IMAGE,
        ("compose", "make"),
        compose=True,
    ),
]
