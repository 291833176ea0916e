"""The loadgen tests' shared live servers: a known delay with no Django in the path, and
`loadgen replica` processes on loopback ports."""

import asyncio
import json
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from harness.live import ROOT, free_port
from loadgen import handshake, wire


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


def write_secret(folder: Path, name: str = "loadgen-secret") -> Path:
    """A secret as make secrets writes one."""
    path = folder / name
    path.write_text(secrets.token_urlsafe(32) + "\n")
    return path


class Replicas:
    """`python -m loadgen replica` processes, each on its own loopback port, sharing the
    secret in `secret` and loading only `targets`; each one's log (stderr) in a file."""

    def __init__(self, count: int, secret: Path, targets: str = "127.0.0.1", *args: str, **env: str) -> None:
        self.secret = secret
        self.ports = [free_port() for _ in range(count)]
        self.logs = [tempfile.NamedTemporaryFile(prefix=f"replica-{i}-", suffix=".log") for i in range(count)]
        self.processes = [
            subprocess.Popen(
                [sys.executable, "-m", "loadgen", "replica", "--listen", f"127.0.0.1:{port}", "--targets", targets]
                + ["--secret-file", str(secret), *args],
                cwd=ROOT,
                env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "LOADGEN_NODE": f"node-{i}", **env},
                stderr=log,
                text=True,
            )
            for i, (port, log) in enumerate(zip(self.ports, self.logs, strict=True))
        ]
        # Up once it says so: a bare connection to see would be refused and logged as a stranger's.
        for i, process in enumerate(self.processes):
            deadline = time.monotonic() + 20
            while not any(event.get("event") == "replica" for event in self.events(i)):
                if process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"no replica on {self.ports[i]}: {self.log(i)}")
                time.sleep(0.05)

    @property
    def at(self) -> str:
        return ",".join(f"127.0.0.1:{port}" for port in self.ports)

    def log(self, i: int = 0) -> str:
        return Path(self.logs[i].name).read_text(errors="replace")

    def events(self, i: int = 0, kind: str | None = None) -> list[dict]:
        found = []
        for line in self.log(i).splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and (kind is None or event.get("event") == kind):
                found.append(event)
        return found

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                process.wait(10)


@pytest.fixture(scope="module")
def secret(tmp_path_factory) -> Path:
    return write_secret(tmp_path_factory.mktemp("secret"))


async def conversation(port: int, key: bytes, data: bytes) -> list[dict]:
    """Prove `key` to the replica on `port` as a conductor does, send `data`, and read every
    message until the replica closes: [its hello, ...]."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=wire.PART_LINE)
    try:
        hello = await handshake.prove(reader, writer, key, 10)
        writer.write(data)
        await writer.drain()
        writer.write_eof()
        return [hello, *(json.loads(line) for line in (await reader.read()).splitlines())]
    finally:
        writer.close()
