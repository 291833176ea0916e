"""The services' image carries asynclab/knobs/ without the host's modules (.dockerignore):
the package must import there, and declare every knob code in the image reads."""

import json
import re
import shutil
import subprocess
import sys

from asynclab.knobs import KNOBS, services, stack
from harness.live import ROOT

# Code in the image that reads a knob's declaration by name.
IMAGE_CODE = ("asynclab", "backend", "gateway", "loadgen")
LITERAL = re.compile(r"""(?:\bread\(|KNOBS\[|declared\()\s*["']([A-Z][A-Z0-9_]*)["']""")


def left_out() -> list[str]:
    """The package's files .dockerignore keeps out of the build context."""
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip().startswith("asynclab/knobs/")]


def image_registry(tmp_path) -> dict:
    """Import asynclab.knobs from a copy of asynclab/ without the left-out files, in a fresh
    interpreter whose path holds that copy only (not the checkout)."""
    copy = tmp_path / "app"
    shutil.copytree(ROOT / "asynclab", copy / "asynclab", ignore=shutil.ignore_patterns("__pycache__"))
    for name in left_out():
        (copy / name).unlink()
    script = (
        f"import json, sys; sys.path.insert(0, {str(copy)!r}); import asynclab.knobs as k; "
        "print(json.dumps({'file': k.__file__, 'names': list(k.KNOBS), "
        "'host': sorted(m for m in sys.modules if m.startswith('asynclab.knobs.') and "
        "m.rsplit('.', 1)[1] in ('stack', 'docs', '__main__'))}))"
    )
    # -I: neither the checkout (the current folder) nor PYTHONPATH on the path.
    done = subprocess.run(
        [sys.executable, "-I", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_dockerignore_leaves_out_the_host_modules_only():
    assert sorted(left_out()) == ["asynclab/knobs/__main__.py", "asynclab/knobs/docs.py", "asynclab/knobs/stack.py"]


def test_the_package_imports_without_the_host_modules(tmp_path):
    found = image_registry(tmp_path)
    assert found["file"].startswith(str(tmp_path)), "imported the checkout's package, not the copy"
    assert found["host"] == []
    assert found["names"] == [knob.name for knob in [*services.KNOBS, *services.IN_CONTAINERS.values()]]


def test_the_image_declares_every_knob_code_in_the_image_reads(tmp_path):
    image = set(image_registry(tmp_path)["names"])
    read = {
        (path.relative_to(ROOT).as_posix(), name)
        for folder in IMAGE_CODE
        for path in sorted((ROOT / folder).rglob("*.py"))
        if (ROOT / "asynclab" / "knobs") not in path.parents
        for name in LITERAL.findall(path.read_text())
    }
    assert {name for _, name in read} >= {"DJANGO", "LOADGEN_SECRET_FILE", "SERVER_MODE"}, "the scan found nothing"
    assert sorted((path, name) for path, name in read if name not in image) == []


def test_the_host_documents_each_image_knob_once_among_the_stack_s():
    placed = [knob.name for knob in stack.KNOBS if knob.name in services.IN_CONTAINERS]
    assert sorted(placed) == sorted(services.IN_CONTAINERS)
    assert [knob.section for knob in services.IN_CONTAINERS.values()] == [
        KNOBS[name].section for name in services.IN_CONTAINERS
    ]
    assert not {knob.section for knob in services.IN_CONTAINERS.values()} & {k.section for k in services.KNOBS}
