import pytest

from tests.live import LiveServer


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
