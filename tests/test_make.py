"""The Makefile's own checks of its knobs, before anything is built: `make -n` only (no
Docker, nothing run)."""

import os
import re
import subprocess

import pytest

from asynclab.knobs import KNOBS
from campaigns import CAMPAIGNS
from harness.live import ROOT


def make(*argv):
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHON", "DJANGO", "MAKEFLAGS", "MAKELEVEL")}
    env["LAB_IMAGE"] = "asynclab-test:latest"
    return subprocess.run(["make", *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("value", ["3.13", "3.14T", "3.14 3.14t", "python3"])
def test_a_python_the_lab_does_not_build_stops_make_with_the_list(value):
    result = make("-n", "up", f"PYTHON={value}")
    assert result.returncode != 0
    assert f"PYTHON={value}: choose one of 3.14 3.14t" in result.stderr, result.stderr


def test_python_runs_its_own_django_and_refuses_another_given_with_it():
    result = make("-n", "up", "PYTHON=3.14t", "DJANGO=3.2")
    assert result.returncode != 0
    assert "PYTHON=3.14t runs Django 6.1: DJANGO=3.2 cannot go with it" in result.stderr, result.stderr
    for argv in (["PYTHON=3.14t"], ["PYTHON=3.14t", "DJANGO=6.1"]):
        result = make("-s", "--no-print-directory", "print-django-image", *argv)
        assert (result.returncode, result.stdout.strip()) == (0, "asynclab-test:py3.14t"), result.stderr


def test_without_python_the_image_is_djangos():
    assert make("-s", "--no-print-directory", "print-django-image").stdout.strip() == "asynclab-test:latest"
    result = make("-s", "--no-print-directory", "print-django-image", "DJANGO=3.2")
    assert result.stdout.strip() == "asynclab-test:django-3.2"


def test_every_campaign_is_a_make_target_handed_to_python():
    listed = re.search(r"^CAMPAIGNS := (.*)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert listed and sorted(listed[1].split()) == sorted(CAMPAIGNS)
    result = make("-n", "streams-5k", "COMPOSE=docker-compose")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].endswith("-m campaigns streams-5k")


def test_make_help_lists_every_documented_target_and_every_campaign():
    documented = re.findall(r"^([a-z0-9-]+):.*## ", (ROOT / "Makefile").read_text(), re.MULTILINE)
    result = make("help", "COMPOSE=docker-compose")
    assert result.returncode == 0, result.stderr
    listed = re.findall(r"^  make (\S+)", result.stdout, re.MULTILINE)
    assert len(documented) > 20 and listed == [*documented, *CAMPAIGNS]


def test_the_makefile_s_version_lists_are_the_knobs_choices():
    # make cannot import the registry: its own lists are checked against it instead.
    text = (ROOT / "Makefile").read_text()
    written = dict(re.findall(r"^([A-Z_]+) := (.*)$", text, re.MULTILINE))
    assert written["DJANGO_VERSIONS"].split() == list(KNOBS["DJANGO"].allowed())
    assert written["PYTHON_VERSIONS"].split() == list(KNOBS["PYTHON"].allowed())
    assert written["DJANGO_DEFAULT"] == KNOBS["DJANGO"].default
