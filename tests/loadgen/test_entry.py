"""loadgen.entry: whom the container's loadgen becomes, decided without touching the process."""

import os
from pathlib import Path

from loadgen.entry import command, owner, results_folder

DROP = ["--clear-groups", "--inh-caps=-all", "--bounding-set=-all"]


def test_not_root_runs_loadgen_as_it_is():
    # LAB_UID given: compose already started it as that user, nothing to switch.
    assert command(1000, (23456, 23457), ["sweep", "--levels", "1"], python="/py") == [
        "/py",
        "-m",
        "loadgen",
        "sweep",
        "--levels",
        "1",
    ]


def test_root_becomes_the_owner_of_the_results_folder():
    assert command(0, (23456, 23457), ["report"], python="/py", setpriv="/usr/bin/setpriv") == [
        "/usr/bin/setpriv",
        "--reuid",
        "23456",
        "--regid",
        "23457",
        *DROP,
        "/py",
        "-m",
        "loadgen",
        "report",
    ]


def test_a_root_owned_folder_keeps_uid_0_but_drops_every_capability():
    argv = command(0, (0, 0), [], python="/py")
    assert argv == ["setpriv", "--reuid", "0", "--regid", "0", *DROP, "/py", "-m", "loadgen"]


def test_the_folder_comes_from_the_flag_then_the_environment():
    assert results_folder([], {}) == Path("results")
    assert results_folder(["report"], {"LOADGEN_RESULTS": "/results"}) == Path("/results")
    assert results_folder(["report", "--results", "/elsewhere"], {"LOADGEN_RESULTS": "/results"}) == Path("/elsewhere")
    assert results_folder(["report", "--results=/b"], {"LOADGEN_RESULTS": "/results"}) == Path("/b")
    assert results_folder(["report"], {"LOADGEN_RESULTS": "  "}) == Path("results")


def test_the_owner_of_a_missing_folder_is_its_nearest_parent(tmp_path):
    mine = (os.stat(tmp_path).st_uid, os.stat(tmp_path).st_gid)
    assert owner(tmp_path) == mine
    assert owner(tmp_path / "not" / "yet") == mine
