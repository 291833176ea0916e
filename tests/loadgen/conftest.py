"""The loadgen tests' shared live server: a known delay with no Django in the path."""

import socket
import subprocess
import sys
import time

import pytest

from harness.live import ROOT, free_port


class KnownDelay:
    """tests/delay_app.py under uvicorn: a known delay with no Django in the path, so the
    accuracy tests measure loadgen (the lab's own service overhead is measured elsewhere)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "tests.delay_app:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            cwd=ROOT,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("tests.delay_app did not start")


@pytest.fixture(scope="module")
def known():
    server = KnownDelay()
    yield server
    server.process.terminate()
    server.process.wait(10)
