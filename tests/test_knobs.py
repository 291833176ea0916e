"""Every knob has one default: the same in docker-compose.yml and .env.example, and a README line."""

import re

from tests.live import ROOT

COMPOSE_KNOB = re.compile(r"\$\{([A-Z][A-Z0-9_]*):-([^}]*)\}")


def compose_text():
    lines = (ROOT / "docker-compose.yml").read_text().splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("#"))


def compose_knobs():
    return dict(COMPOSE_KNOB.findall(compose_text()))


def example_knobs():
    lines = (ROOT / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_compose_and_env_example_list_the_same_knobs_with_the_same_defaults():
    assert compose_knobs() == example_knobs()


def test_compose_never_nests_defaults():
    # docker-compose 1.29 leaves ${A:-${B}} as literal text.
    assert not re.search(r"\$\{[A-Z][A-Z0-9_]*:-[^}]*\$\{", compose_text())


def test_the_readme_documents_every_knob():
    readme = (ROOT / "README.md").read_text()
    assert [knob for knob in compose_knobs() if f"`{knob}`" not in readme] == []
