"""The host chores make hands to Python: make secrets (campaigns/secrets.py) and make browser
(campaigns/browser.py), each run as make runs it, in a fresh interpreter."""

import os
import stat
import subprocess
import sys

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
