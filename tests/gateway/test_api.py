"""asynclab/api.py is the one list of the lab's names: every name there has its
implementation (strategy module, client module, URL route), and nothing is implemented
that it does not list. What each route answers is the live tests' business
(tests/gateway/test_aggregation.py checks each strategy's path reports that strategy)."""

import json
import subprocess
import sys

import pytest

from asynclab import api
from gateway import clients, strategies
from harness.live import ROOT, serve_env

ROUTES = """
import json, django
django.setup()
from django.urls import get_resolver
print(json.dumps(["/" + str(pattern.pattern) for pattern in get_resolver().url_patterns]))
"""
# Routes of the services that are not in asynclab/api.py: the common package's own.
COMMON = {"/healthz", "/telemetry"}


@pytest.fixture(scope="module", params=["backend", "gateway"])
def routes(request):
    """The service's URLconf as Django loads it, in a process of its own."""
    env = serve_env(DJANGO_SETTINGS_MODULE=f"{request.param}.settings", DB="none")
    found = subprocess.run(
        [sys.executable, "-c", ROUTES], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert found.returncode == 0, found.stderr
    return request.param, set(json.loads(found.stdout.splitlines()[-1]))


def test_every_strategy_is_a_module_of_the_registry_and_nothing_else():
    assert set(strategies.STRATEGIES) == set(api.STRATEGIES)
    assert set(api.ARTICLE_STRATEGIES) <= set(api.STRATEGIES)
    for name, strategy in strategies.STRATEGIES.items():
        assert isinstance(strategy, strategies.Strategy) and strategy.NAME == name
        assert strategy.KIND in ("async", "sync")


def test_every_client_is_a_module_of_the_registry_and_nothing_else():
    assert set(clients.CLIENTS) == set(api.CLIENTS)
    assert api.CLIENT_CHOICES == ("auto", *api.CLIENTS)
    assert set(clients.AUTO.values()) <= set(api.CLIENTS)
    for name, client in clients.CLIENTS.items():
        assert isinstance(client, clients.Client) and client.NAME == name
        assert isinstance(client, clients.SyncClient) == client.SYNC, name


def test_every_target_is_a_backend_view():
    assert set(api.ARTICLE_TARGETS) <= set(api.TARGETS) and set(api.DB_TARGETS) <= set(api.TARGETS)
    assert {path for path, _ in api.TARGETS.values()} == set(api.BACKEND_VIEWS.values())


def test_every_route_is_listed_and_every_listed_path_is_routed(routes):
    service, found = routes
    listed = {
        "backend": set(api.BACKEND_VIEWS.values())
        | set(api.BACKEND_STREAMS.values())
        | {"/database", api.BACKEND_CPU, api.CHAT_GAUGE}
        # The WebSocket prefix over plain HTTP (a JSON refusal): routed as a pattern.
        | {"/^" + api.CHAT_ROOMS.strip("/").split("/")[0] + "/"},
        "gateway": set(api.STRATEGIES.values()) | {api.GATEWAY_STREAM},
    }[service] | {api.STREAMS_GAUGE}
    assert found == listed | COMMON
