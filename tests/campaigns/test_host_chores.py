"""The host chores make hands to Python, each run as make runs it, in a fresh interpreter:
make secrets (campaigns/secrets.py), make browser (campaigns/browser.py), make images
(campaigns/images.py) and make netem's check (campaigns/netem.py)."""

import os
import stat
import subprocess
import sys

from asynclab.knobs import KNOBS
from harness.live import ROOT


def run(module, *argv, path=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", module, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_secrets_are_written_once_readable_by_the_containers_and_random(tmp_path):
    first, second = tmp_path / "build" / "postgres-password", tmp_path / "build" / "loadgen-secret"
    done = run("campaigns.secrets", f"PostgreSQL password={first}", f"loadgen replicas' secret={second}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"wrote a new PostgreSQL password to {first}",
        f"wrote a new loadgen replicas' secret to {second}",
    ]
    values = [path.read_text() for path in (first, second)]
    assert values[0] != values[1] and all(len(value.strip()) == 43 for value in values)
    assert [stat.S_IMODE(path.stat().st_mode) for path in (first, second)] == [0o644, 0o644]
    again = run("campaigns.secrets", f"PostgreSQL password={first}")
    assert (again.returncode, again.stdout) == (0, "") and first.read_text() == values[0]


def test_an_empty_secret_or_a_folder_in_its_place_is_replaced(tmp_path):
    empty, folder = tmp_path / "empty", tmp_path / "folder"
    empty.write_text("")
    folder.mkdir()
    done = run("campaigns.secrets", f"a={empty}", f"b={folder}")
    assert done.returncode == 0, done.stderr
    assert len(empty.read_text().strip()) == 43 and folder.is_file()


def test_secrets_refuse_an_argument_without_a_label_and_a_file(tmp_path):
    for argv in ([], [str(tmp_path / "x")], [f"label={''}"]):
        done = run("campaigns.secrets", *argv)
        assert done.returncode == 2 and "usage" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_browser_does_nothing_when_chromium_is_on_path(tmp_path):
    chromium = tmp_path / "chromium"
    chromium.write_text("#!/bin/sh\n")
    chromium.chmod(0o755)
    done = run("campaigns.browser", path=str(tmp_path))
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_browser_without_chromium_or_apt_says_how_to_install_it(tmp_path):
    done = run("campaigns.browser", path=str(tmp_path))
    assert done.returncode == 1
    assert "sudo apt-get install -y --no-install-recommends chromium" in done.stdout


def fake_make(tmp_path, failing=""):
    """A `make` that records each call's arguments and fails the build of `failing`."""
    script = tmp_path / "make"
    script.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path}/calls\ncase "$*" in *"{failing or "-"}") exit 3;; esac\n')
    script.chmod(0o755)
    return script


def calls(tmp_path):
    return (tmp_path / "calls").read_text().splitlines()


def test_images_builds_every_django_then_every_python_in_the_knobs_order(tmp_path):
    make = fake_make(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "campaigns.images"],
        cwd=ROOT,
        env={**os.environ, "MAKE": str(make)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    django, python = KNOBS["DJANGO"].allowed(), KNOBS["PYTHON"].allowed()
    assert calls(tmp_path) == [f"--no-print-directory build DJANGO={v}" for v in django] + [
        f"--no-print-directory build PYTHON={p}" for p in python
    ]


def test_images_stops_at_the_first_build_that_fails_with_its_status(tmp_path):
    third = f"DJANGO={KNOBS['DJANGO'].allowed()[2]}"
    make = fake_make(tmp_path, failing=third)
    done = subprocess.run(
        [sys.executable, "-m", "campaigns.images"], cwd=ROOT, env={**os.environ, "MAKE": str(make)}, timeout=60
    )
    assert done.returncode == 3
    assert calls(tmp_path)[-1] == f"--no-print-directory build {third}" and len(calls(tmp_path)) == 3
    assert not any("PYTHON=" in call for call in calls(tmp_path))


def fake_compose(tmp_path, logged):
    """A compose whose `logs` prints `logged` and which records every call."""
    script = tmp_path / "compose"
    (tmp_path / "logged").write_text(logged)
    script.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path}/calls\ncase "$*" in *logs*) cat {tmp_path}/logged;; esac\n')
    script.chmod(0o755)
    return str(script)


def netem(compose):
    env = {**os.environ, "COMPOSE": compose}
    return subprocess.run(
        [sys.executable, "-m", "campaigns.netem"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_netem_with_its_qdisc_set_prints_it_and_leaves_it_running(tmp_path):
    on = '{"event": "netem", "device": "eth0", "qdisc": "qdisc netem 8001: root delay 50ms"}'
    done = netem(fake_compose(tmp_path, f"netem_1  | starting\nnetem_1  | {on}\n"))
    assert (done.returncode, done.stdout) == (0, f"netem_1  | {on}\n")
    assert calls(tmp_path) == ["--profile netem logs --no-color netem"]


def test_netem_without_a_qdisc_is_removed_and_fails(tmp_path):
    failed = '{"event": "netem", "error": "tc failed: Specified qdisc kind is unknown"}'
    done = netem(fake_compose(tmp_path, f"netem_1  | {failed}\n"))
    assert (done.returncode, done.stdout) == (1, f"netem_1  | {failed}\n")
    assert calls(tmp_path)[-1] == "--profile netem rm --stop --force netem"
    # Nothing logged at all: the same, never a silent success.
    assert netem(fake_compose(tmp_path, "")).returncode == 1
