"""Each knob is declared once, in asynclab/knobs/; everything else follows from it or is
checked against it: what the code reads, what docker-compose.yml passes through and the
defaults compose and make interpolate (the rendered files: test_knobs_docs.py)."""

import os
import re
import shutil
import subprocess

import pytest

from asynclab import knobs
from asynclab.config import ConfigError
from asynclab.knobs import KNOBS, declared, read
from harness.live import ROOT

PYTHON_SOURCES = [
    path
    for folder in ("asynclab", "backend", "gateway")
    for path in sorted((ROOT / folder).rglob("*.py"))
    if path.name != "config.py" and (ROOT / "asynclab" / "knobs") not in path.parents
]
DIRECT = re.compile(r"""\b(read|env|service_env)\(\s*(?:service\s*,\s*)?["']([A-Z][A-Z0-9_]*)["']""")
ENVIRON = re.compile(r"""(?:environ\.get|getenv)\(\s*["']([A-Z][A-Z0-9_]*)["']""")
INTERPOLATED = re.compile(r"\$\{([A-Z][A-Z0-9_]*)(?::?-([^}]*))?\}")


def compose_text():
    lines = (ROOT / "docker-compose.yml").read_text().splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("#"))


def compose_environments():
    """{service: {NAME: value or None}} from docker-compose.yml's environment mappings,
    anchors merged (the file's own shape: no YAML library in the venv)."""
    anchors, services, block, target, section = {}, {}, None, None, None
    for line in compose_text().splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if indent == 0:
            section = line.rstrip(":").split(":")[0]
            anchor = re.search(r"&([\w-]+)\s*$", line)
            block = anchors.setdefault(anchor.group(1), {}) if anchor and section.startswith("x-") else None
            target = None
            continue
        if section == "services" and indent == 2:
            service = line.strip().rstrip(":")
            target = None
            continue
        if section == "services" and indent == 4:
            target = services.setdefault(service, {}) if line.strip() == "environment:" else None
            continue
        mapping = block if indent == 2 else target if indent == 6 else None
        if mapping is None:
            continue
        key, _, value = line.strip().partition(":")
        if key == "<<":
            mapping.update(anchors[value.strip().lstrip("*")])
        else:
            mapping[key] = value.strip() or None
    return services


def python_reads():
    """{NAME: [file, ...]} for every knob the services read by a literal name."""
    found = {}
    for path in PYTHON_SOURCES:
        text = path.read_text()
        for name in [match[1] for match in DIRECT.findall(text)] + ENVIRON.findall(text):
            found.setdefault(name, []).append(str(path.relative_to(ROOT)))
    return found


def test_every_knob_the_code_reads_is_declared():
    reads = python_reads()
    # loadgen's LOADGEN_* variables are its flags' twins, documented by its --help.
    loadgen = {
        name
        for path in (ROOT / "loadgen").rglob("*.py")
        for name in ENVIRON.findall(path.read_text())
        if not name.startswith("LOADGEN_")
    }
    assert [name for name in [*reads, *loadgen] if name not in KNOBS] == []


def test_the_services_read_knobs_only_through_the_registry():
    direct = {
        (path.relative_to(ROOT).as_posix(), match[1])
        for path in PYTHON_SOURCES
        for match in DIRECT.findall(path.read_text())
        if match[0] != "read"
    }
    assert direct == set()


def test_every_declared_knob_is_read():
    reads = python_reads()
    compose = compose_text()
    environments = compose_environments()
    makefile = (ROOT / "Makefile").read_text()
    swarm_stack = "".join(path.read_text() for path in sorted((ROOT / "swarm").glob("*.py")))
    readers = {
        "postgres": (ROOT / "docker" / "postgres.sh").read_text(),
        "netem": (ROOT / "docker" / "netem.sh").read_text(),
        "loadgen": "".join(path.read_text() for path in (ROOT / "loadgen").rglob("*.py")),
    }
    unread = []
    for knob in KNOBS.values():
        for reader in knob.read_by:
            if reader in ("backend", "gateway"):
                ok = knob.name in reads
            elif reader == "compose":
                ok = f"${{{knob.name}:-" in compose
            elif reader == "swarm":
                ok = f'"{knob.name}"' in swarm_stack
            elif reader == "make":
                ok = re.search(rf"^{knob.name} \?=|\$\({knob.name}\)", makefile, re.MULTILINE) is not None
            else:
                ok = knob.name in environments[reader] and knob.name in readers[reader]
            if not ok:
                unread.append((knob.name, reader))
    assert unread == []


def test_compose_passes_every_host_knob_to_the_services_that_read_it():
    environments = compose_environments()
    for service, environment in environments.items():
        passed = [name for name, value in environment.items() if value is None]
        assert [name for name in passed if name not in knobs.names()] == [], service
        assert [name for name in passed if service not in declared(name).read_by] == [], service
        if service in knobs.SERVICES:
            wanted = {
                name
                for knob in KNOBS.values()
                if service in knob.read_by and knob.section != knobs.CONTAINER
                for name in (knob.name, *(o for o in knob.overrides() if o.startswith(service.upper())))
            }
            assert sorted(wanted - set(passed)) == [], f"{service} does not get these knobs"
        # A value compose writes itself is a container setting or a value compose interpolates.
        for name, value in environment.items():
            if value is not None and name in KNOBS:
                knob = KNOBS[name]
                assert knob.section == knobs.CONTAINER or knob.compose and f"${{{name}:-" in value, (service, name)


def test_compose_interpolates_only_declared_knobs_with_their_declared_defaults():
    found = {}
    for name, default in INTERPOLATED.findall(compose_text()):
        found.setdefault(name, set()).add(default)
    assert sorted(found) == sorted(name for name, knob in KNOBS.items() if knob.compose)
    for name, defaults in found.items():
        knob = KNOBS[name]
        assert [read(name, environ={name: text}) if text else "" for text in defaults] == [knob.default] * len(
            defaults
        ), name


def test_compose_never_nests_defaults():
    # docker-compose 1.29 leaves ${A:-${B}} as literal text.
    assert not re.search(r"\$\{[A-Z][A-Z0-9_]*:-[^}]*\$\{", compose_text())


def test_make_and_the_dockerfile_default_knobs_as_declared():
    makefile = (ROOT / "Makefile").read_text()
    written = dict(re.findall(r"^([A-Z][A-Z0-9_]*) \?= (.*)$", makefile, re.MULTILINE))
    written.update(re.findall(r"^ARG ([A-Z][A-Z0-9_]*)=(.*)$", (ROOT / "Dockerfile").read_text(), re.MULTILINE))
    checked = {name: value for name, value in written.items() if name in KNOBS and not value.startswith("$(")}
    assert checked, "nothing compared"
    assert {name: read(name, environ={name: value}) for name, value in checked.items()} == {
        name: KNOBS[name].default for name in checked
    }


@pytest.mark.parametrize("name", sorted(KNOBS))
def test_each_default_is_valid_and_reads_back_as_written(name):
    knob = KNOBS[name]
    service = "backend" if knob.per_service else None
    assert read(name, service, environ={}) == knob.default
    written = knobs.text(knob.default)
    if written:
        assert read(name, service, environ={name: written}) == knob.default
    choices = knob.allowed()
    # An empty default is the knob left unset (PYTHON: DJANGO's own interpreter).
    if choices is not None and knob.default != "":
        assert knob.default in choices


def test_defaults_bounded_by_another_knob_follow_it():
    assert read("BACKEND_DELAY", environ={}) == 1.0
    assert read("BACKEND_DELAY", environ={"BACKEND_MAX_DELAY": "0.5"}) == 0.5
    assert read("GATEWAY_TIMEOUT", environ={"GATEWAY_MAX_TIMEOUT": "2"}) == 2.0
    assert read("GATEWAY_DEADLINE", environ={"GATEWAY_MAX_DEADLINE": "10"}) == 10.0
    with pytest.raises(ConfigError, match=r"BACKEND_DELAY='2': must be at most 0.5"):
        read("BACKEND_DELAY", environ={"BACKEND_MAX_DELAY": "0.5", "BACKEND_DELAY": "2"})
    with pytest.raises(ConfigError, match=r"GATEWAY_MAX_CALLS='50': must be at least 100"):
        read("GATEWAY_MAX_CALLS", environ={"GATEWAY_MAX_CALLS": "50"})


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="needs docker-compose")
def test_compose_passes_a_set_knob_and_leaves_an_unset_one_unset(tmp_path):
    environ = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "SERVER_MODE": "asgi", "BACKEND_WORKERS": "3"}
    empty = tmp_path / "empty.env"
    empty.write_text("")
    config = subprocess.run(
        ["docker-compose", "--env-file", str(empty), "config"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    backend = config.split("\n  backend:\n", 1)[1].split("\n  gateway:\n", 1)[0]
    assert "SERVER_MODE: asgi" in backend and "BACKEND_WORKERS: '3'" in backend
    assert re.search(r"^\s+WORKERS: null$", backend, re.MULTILINE), "an unset knob must reach the container unset"
