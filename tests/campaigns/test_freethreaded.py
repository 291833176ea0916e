"""`make freethreaded`'s plan, read without Docker, and its one host step (the memory of a
parked thread and task in the backend's interpreter) against a live backend."""

import json
import re
import sys

from asynclab.knobs import KNOBS
from campaigns import CAMPAIGNS, freethreaded, parked
from campaigns.stack import steps
from harness.live import ROOT, free_port
from loadgen.lab import Lab
from loadgen.results import load


def runs():
    return [s for s in steps(freethreaded.cells()) if s.kind in ("loadgen", "host")]


def test_it_is_registered_and_make_knows_it():
    assert CAMPAIGNS["freethreaded"] is freethreaded
    line = next(line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("CAMPAIGNS :="))
    assert "freethreaded" in line.split()


def test_the_interpreters_are_the_python_knobs_and_makes_choices():
    # Make refuses a PYTHON outside its list; the campaign walks the knob's: the same list.
    makefile = (ROOT / "Makefile").read_text()
    assert tuple(re.search(r"^PYTHON_VERSIONS := (.+)$", makefile, re.M).group(1).split()) == KNOBS["PYTHON"].choices
    assert [s.knobs["PYTHON"] for s in steps(freethreaded.cells()) if s.kind == "up"] == [
        python for python in KNOBS["PYTHON"].choices for _ in range(len(freethreaded.THREADS) + len(freethreaded.MODES))
    ]


def test_both_interpreters_get_every_cell():
    cells = {}
    for step in runs():
        if step.kind == "loadgen":
            part = step.args[step.args.index("--parts") + 1]
            where = (step.knobs["SERVER_MODE"], step.knobs.get("WORKERS"), step.knobs.get("THREADS"), part)
            cells.setdefault(step.knobs["PYTHON"], []).append(where)
    expected = [
        ("wsgi", "1", "1", "cpu,single"),
        ("wsgi", "1", "2", "cpu"),
        ("wsgi", "1", "4", "cpu"),
        ("wsgi", None, None, "aggregation"),
        ("asgi", None, None, "aggregation"),
    ]
    assert cells == {python: expected for python in KNOBS["PYTHON"].choices}
    # The backend has every core: the question is whether one process uses two.
    assert {s.knobs["BACKEND_CPUS"] for s in runs()} == {"0"}


def test_the_backends_memory_is_measured_from_the_host_once_per_interpreter_with_one_thread():
    hosts = [s for s in runs() if s.kind == "host"]
    assert [(s.knobs["PYTHON"], s.knobs["THREADS"]) for s in hosts] == [(p, "1") for p in KNOBS["PYTHON"].choices]
    assert all(s.args[1:3] == ("-m", "campaigns.parked") for s in hosts)


def test_its_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("FREETHREADED_PYTHONS", "3.14t")
    monkeypatch.setenv("FREETHREADED_THREADS", "2")
    monkeypatch.setenv("FREETHREADED_MEMORY", "")
    found = [(s.knobs.get("THREADS"), s.knobs["SERVER_MODE"]) for s in runs()]
    assert found == [("2", "wsgi"), (None, "wsgi"), (None, "asgi")]
    assert {s.knobs["PYTHON"] for s in runs()} == {"3.14t"}


def test_parked_saves_the_backends_interpreter_figures_as_a_freethreaded_result(serve, tmp_path):
    backend = serve("backend", "wsgi", THREADS=2)
    lab = Lab(gateway=backend.url, backend=backend.url, results=tmp_path, progress=False)
    # The host's own Python stands for `compose exec -T backend python`: the same command shape.
    result, path = parked.measure([sys.executable], {"threads": 100, "tasks_event": 1000}, lab)
    where = result["memory"]["where"]
    assert where["interpreter"] == "backend" and where["of_backend"] and where["python"] == result["python"]["version"]
    assert result["memory"]["threads"]["bytes_each"] > 0 and result["memory"]["tasks_event"]["bytes_each"] > 0
    assert result["gil"]["free_threaded"] is False and result["gil"]["label"] == "with the GIL"
    assert json.loads(path.read_text())["variant"] == f"py{result['python']['label']}-memory"
    [(key, mode)] = load(tmp_path)
    assert key.startswith("freethreaded/py") and mode == "wsgi"


def test_parked_refuses_a_bad_count():
    assert parked.main(["10", "x"]) == 2 and parked.main(["0", "10"]) == 2 and parked.main([]) == 2


def test_parked_says_why_when_the_backends_interpreter_cannot_be_reached(tmp_path):
    # Nothing listens there, and the command fails as `compose exec` does on a stopped stack.
    url = f"http://127.0.0.1:{free_port()}"
    lab = Lab(gateway=url, backend=url, results=tmp_path, progress=False)
    result, _ = parked.measure(["false"], {"threads": 10, "tasks_event": 10}, lab)
    assert all(
        "error" in result["memory"][kind] and "bytes_each" not in result["memory"][kind] for kind in parked.KINDS
    )
    assert result["memory"]["where"]["python"] is None and result["gil"]["label"] == "unknown"
