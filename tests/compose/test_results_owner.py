"""Compose tier: `docker compose run --rm loadgen` writes results/ as whoever owns it.

No variable set, as a user runs it by hand; no running stack either (`report` and the
checks here need none). The folders are chowned to other users, so this runs as root, as CI
does. Required: with no Docker engine these tests fail, they never skip.
"""

import os
import shutil
import subprocess
import time

import pytest

from harness.live import ROOT

pytestmark = pytest.mark.compose

PROJECT = f"asynclabowner{os.getpid()}"
OTHER = (23456, 23457)  # neither root nor the image's own user (10001)


def run(*argv, env=None, timeout=300):
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def compose():
    if run("docker", "compose", "version").returncode == 0:
        return ["docker", "compose"]
    return ["docker-compose"]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if shutil.which("docker") is None or run("docker", "info").returncode != 0:
        pytest.fail("the compose tier needs a running Docker engine (docker info failed)")
    if os.getuid() != 0:
        pytest.fail("these tests chown folders to other users: run them as root (CI does)")
    secret = tmp_path_factory.mktemp("secret") / "postgres-password"
    secret.write_text("unused\n")
    # What make passes to compose, minus the user knobs whose absence is the point.
    env = {
        **os.environ,
        "COMPOSE_PROJECT_NAME": PROJECT,
        "LAB_IMAGE": os.environ.get("LAB_IMAGE", "asynclab:latest"),
        "GIT_COMMIT": "test",
        "POSTGRES_SECRET_FILE": str(secret),
    }
    for knob in ("LAB_UID", "LAB_GID"):
        env.pop(knob, None)
    yield env
    run(*compose(), "--profile", "loadgen", "down", "--remove-orphans", env=env)


def results_dir(tmp_path, owner, mode=0o755):
    folder = tmp_path / "results"
    folder.mkdir()
    os.chown(folder, *owner)
    folder.chmod(mode)
    return folder


def loadgen(lab, folder, *argv, entrypoint=()):
    return run(
        *compose(),
        "run",
        "--rm",
        "--no-deps",
        "-T",
        *entrypoint,
        "loadgen",
        *argv,
        env={**lab, "RESULTS_DIR": str(folder)},
    )


@pytest.mark.parametrize("owner", [OTHER, (0, 0)], ids=["another-user", "root"])
def test_loadgen_writes_results_as_the_owner_of_the_folder(lab, tmp_path, owner):
    folder = results_dir(tmp_path, owner)
    result = loadgen(lab, folder, "report")
    assert result.returncode == 0, result.stdout + result.stderr
    report = folder / "report.md"
    assert report.read_text().startswith("# asynclab report")
    assert (report.stat().st_uid, report.stat().st_gid) == owner


# The real entry decision, but exec'ing a status dump where it would exec loadgen.
STATUS = (
    "import os; from loadgen import entry; "
    "argv = entry.command(os.getuid(), entry.owner(entry.results_folder([], dict(os.environ))), [], "
    "setpriv='/usr/bin/setpriv'); "
    "argv[argv.index('-m'):] = ['-c', 'print(open(\"/proc/self/status\").read())']; os.execv(argv[0], argv)"
)


@pytest.mark.parametrize("owner", [OTHER, (0, 0)], ids=["another-user", "root"])
def test_loadgen_keeps_no_capability(lab, tmp_path, owner):
    folder = results_dir(tmp_path, owner)
    result = loadgen(lab, folder, "-c", STATUS, entrypoint=("--entrypoint", "python"))
    assert result.returncode == 0, result.stdout + result.stderr
    status = dict(line.split(":\t", 1) for line in result.stdout.splitlines() if ":\t" in line)
    assert status["Uid"].split()[:2] == [str(owner[0])] * 2 and status["Gid"].split()[:2] == [str(owner[1])] * 2
    assert status["Groups"].strip() == ""
    for caps in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(status[caps], 16) == 0, f"{caps} {status[caps]}"
    assert status["NoNewPrivs"].strip() == "1"


def test_an_unwritable_folder_fails_at_once_and_clearly(lab, tmp_path):
    folder = results_dir(tmp_path, OTHER, mode=0o555)
    start = time.monotonic()
    # article, not report: the check must come before loadgen even looks for the gateway.
    result = loadgen(lab, folder, "article")
    elapsed = time.monotonic() - start
    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        "loadgen: cannot write the results folder /results (/results is owned by uid 23456 gid 23457; "
        "loadgen runs as uid 23456 gid 23457): [Errno 13] Permission denied" in result.stderr
    )
    assert "refusing to measure" not in result.stderr
    assert list(folder.iterdir()) == []
    assert elapsed < 30, f"took {elapsed:.0f} s"
