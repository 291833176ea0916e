"""The files rendered from the registries by `make knobs` (asynclab/knobs/docs.py):
.env.example, docs/knobs.md, and docs/servers.md's servers table between its markers."""

import subprocess
import sys

import pytest

from asynclab.knobs import docs
from asynclab.servers import SERVERS
from harness.live import ROOT


def test_the_generated_files_are_up_to_date():
    assert [str(path.relative_to(ROOT)) for path in docs.stale()] == [], "run make knobs"


def test_make_knobs_check_names_nothing_when_the_files_are_current():
    done = subprocess.run(
        [sys.executable, "-m", "asynclab.knobs", "--check"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stderr) == (0, "")


def test_the_servers_table_has_one_row_per_mode_in_the_registry_s_order():
    rows = docs.servers_table().splitlines()[2:]
    assert [row.split(" | ")[0] for row in rows] == [f"| `{mode}`" for mode in SERVERS]
    # A mode without a THREADS knob says so, with what its service does instead.
    asgi = rows[list(SERVERS).index("asgi")]
    assert "none: setting `THREADS` stops the service at start" in asgi
    assert SERVERS["asgi"].CONCURRENCY in asgi


def test_a_stale_servers_table_is_replaced_and_the_prose_round_it_kept():
    stale = f"# Servers\n\nbefore\n\n{docs.TABLE_START}\n| old | table |\n{docs.TABLE_END}\nafter\n"
    rendered = docs.with_servers_table(stale)
    assert rendered == f"# Servers\n\nbefore\n\n{docs.TABLE_START}\n{docs.servers_table()}{docs.TABLE_END}\nafter\n"
    assert docs.with_servers_table(rendered) == rendered


def test_docs_servers_md_s_table_is_the_registry_s():
    text = docs.SERVERS_MD.read_text()
    assert f"{docs.TABLE_START}\n{docs.servers_table()}{docs.TABLE_END}\n" in text


@pytest.mark.parametrize("text", ["no markers\n", f"{docs.TABLE_START}\nno end marker\n"])
def test_servers_md_without_its_markers_is_an_error_not_a_silent_skip(text):
    with pytest.raises(ValueError, match="markers"):
        docs.with_servers_table(text)
