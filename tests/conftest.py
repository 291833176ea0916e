import os

import pytest

from harness.live import LiveServer

# loadgen reads its LOADGEN_* twins from the environment, in this process too: a host's
# (LOADGEN_REPLICAS, say, which sends every run looking for replicas) must not change
# what a test measures. Tests give loadgen their own flags and variables.
for name in [name for name in os.environ if name.startswith("LOADGEN_")]:
    del os.environ[name]


@pytest.fixture
def serve():
    """Start live servers for one test; all are stopped after it."""
    started: list[LiveServer] = []

    def start(service: str, mode: str = "asgi", **env: object) -> LiveServer:
        server = LiveServer(service, mode, **env)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()
