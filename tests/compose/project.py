"""One compose project of the tier's own: the environment a test module brings the lab up
in, isolated from the host's knobs and from any lab the user has running."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from harness.live import ROOT, free_port


def run(*argv, env=None, timeout=600):
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def isolated(project: str, results: str, host_knobs: tuple[str, ...]) -> dict[str, str]:
    """The host's environment without `host_knobs` (and their BACKEND_/GATEWAY_ forms), with
    its own project name, free ports and results folder. Fails, never skips, without Docker."""
    if shutil.which("docker") is None or run("docker", "info").returncode != 0:
        pytest.fail("the compose tier needs a running Docker engine (docker info failed)")
    dropped = {f"{prefix}{knob}" for knob in host_knobs for prefix in ("", "BACKEND_", "GATEWAY_")}
    env = {key: value for key, value in os.environ.items() if key not in dropped}
    env.update(
        COMPOSE_PROJECT_NAME=project,
        GATEWAY_PORT=str(free_port()),
        BACKEND_PORT=str(free_port()),
        HEALTHCHECK_INTERVAL="1s",
        RESULTS_DIR=results,
    )
    return env
