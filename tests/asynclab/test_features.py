"""asynclab/features.py: what a Django lacks, how a view that needs it answers (501 JSON),
and the knobs refused at start. Units: the Django version is the one thing swapped in (the
host venv has only 5.2); the compose tier runs the real old ones (tests/compose/test_versions.py)."""

import asyncio
import json

import pytest
from django.test import RequestFactory

from asynclab import features
from asynclab.config import ConfigError


@pytest.fixture
def django(monkeypatch):
    """Pretend this process runs another Django: features reads it from django_version()."""

    def pretend(text):
        monkeypatch.setattr(features, "django_version", lambda: text)

    return pretend


@pytest.mark.parametrize(
    ("version", "lacking"),
    [
        ("3.1.14", {"async-orm", "async-streaming", "psycopg3", "db-pool", "django31-emulation", "lean-handler"}),
        ("3.2.25", {"async-orm", "async-streaming", "psycopg3", "db-pool", "django31-emulation", "lean-handler"}),
        ("4.2.30", {"db-pool", "lean-handler"}),
        ("5.2.19", set()),
        ("6.1.3", {"lean-handler"}),
    ],
)
def test_each_version_lacks_exactly_what_came_later(django, version, lacking):
    django(version)
    assert {name for name in features.FEATURES if not features.has(name)} == lacking


def test_a_lacking_feature_names_itself_and_both_versions(django):
    django("3.1.14")
    reason = features.lacks("async-orm")
    assert "needs Django 4.1 or later" in reason and "Django 3.1.14" in reason


@pytest.fixture
def configured():
    """A response needs Django's settings; the backend tier's conftest may have set them up."""
    from django.conf import settings

    if not settings.configured:
        settings.configure()


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_view_needing_a_newer_django_answers_501_json_and_keeps_its_kind(django, configured, kind):
    django("3.1.14")

    def sync_view(request):
        raise AssertionError("never runs")

    async def async_view(request):
        raise AssertionError("never runs")

    view = features.requires("async-orm")(sync_view if kind == "sync" else async_view)
    assert asyncio.iscoroutinefunction(view) is (kind == "async")
    request = RequestFactory().get("/api/db/async/")
    response = asyncio.run(view(request)) if kind == "async" else view(request)
    body = json.loads(response.content)
    assert response.status_code == 501
    assert (body["error"], body["feature"], body["django"], body["needs"]) == (
        "not_in_this_django",
        "async-orm",
        "3.1.14",
        "4.1",
    )


def test_a_view_is_left_alone_on_a_django_that_has_the_feature(django):
    django("4.2.30")

    async def view(request):
        return "ran"

    assert features.requires("async-orm")(view) is view


def test_an_unknown_feature_fails_at_import_not_at_the_first_request():
    with pytest.raises(KeyError):
        features.requires("async-everything")


@pytest.mark.parametrize(
    ("version", "environ", "named"),
    [
        ("4.2.30", {"DB": "postgres", "DB_POOL": "true"}, "DB_POOL=true"),
        ("3.2.25", {"DB": "postgres"}, "DB=postgres"),
        ("3.1.14", {"DJANGO31_THREADS": "true"}, "DJANGO31_THREADS=true"),
        ("6.1.3", {"LEAN": "true"}, "LEAN=true"),
    ],
)
def test_a_knob_this_django_cannot_honour_stops_the_service_naming_it(django, version, environ, named):
    django(version)
    with pytest.raises(ConfigError, match=named):
        features.check("backend", environ)


def test_knobs_a_service_does_not_read_are_not_its_concern(django):
    django("4.2.30")
    features.check("gateway", {"DB": "postgres", "DB_POOL": "true"})


def test_djangos_own_version_passes_and_another_is_refused(django):
    django("3.1.14")
    features.check("backend", {"DJANGO": "3.1"})
    features.check("backend", {})  # unset: the image's own Django is the one meant
    with pytest.raises(ConfigError, match=r"DJANGO=5\.2, but this image runs Django 3\.1\.14"):
        features.check("backend", {"DJANGO": "5.2"})
