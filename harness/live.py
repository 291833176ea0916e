"""Live servers for tests and benches: the real entrypoint (or a command of the caller's),
a real server process and its workers, real sockets, and their CPU from /proc."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path

from asynclab.telemetry import TICKS, stat_fields

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str, timeout: float = 30, headers: dict[str, str] | None = None) -> tuple[int, dict, Message]:
    """GET url; (status, JSON body, headers looked up case-insensitively), for error statuses too."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=timeout) as response:
            return response.status, json.load(response), response.headers
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.load(error), error.headers


def raw_exchange(port: int, head: bytes, host: str = "127.0.0.1") -> tuple[int, str, bytes]:
    """Send a raw request head, byte for byte as given; (status, content type, body)."""
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(head)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head_part, _, body = data.partition(b"\r\n\r\n")
    lines = head_part.decode("latin-1").split("\r\n")
    fields = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
    content_type = next((v.strip() for k, v in fields.items() if k.lower() == "content-type"), "")
    return int(lines[0].split()[1]), content_type, body


def raw_get(port: int, target: str, host: str = "127.0.0.1", headers: bytes = b"") -> tuple[int, str, bytes]:
    """GET `target` with this Host and these extra header lines, on a connection of its own."""
    return raw_exchange(
        port, f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n".encode() + headers + b"\r\n"
    )


# The host's own lab knobs that must not leak into a test's or a bench's server (DB=postgres,
# LEAN=true, WORKERS=2, say): whatever a server needs, it is given.
HOST_KNOBS = ("BACKEND_", "GATEWAY_", "DJANGO_", "DB", "POSTGRES_", "LEAN", "SERVER_MODE", "WORKERS", "THREADS")


def serve_env(**env: object) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(HOST_KNOBS)}
    base.update({"BIND_HOST": "127.0.0.1", "PYTHONPATH": str(ROOT)})
    base.update({key: str(value) for key, value in env.items()})
    return base


class LiveServer:
    """`python -m asynclab.entrypoint SERVICE` on a free port (or `command`, whose server
    serves `ready` with a 200 once up), stopped with SIGTERM to its whole process group."""

    def __init__(
        self, service: str, mode: str, command: list[str] | None = None, ready: str | None = None, **env: object
    ) -> None:
        self.service, self.mode = service, mode
        self.command = command or [sys.executable, "-m", "asynclab.entrypoint", service]
        self.ready = ready
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.output = tempfile.NamedTemporaryFile(prefix=f"{service}-{mode}-", suffix=".log")
        # Each server its own SQLite file (the backend migrates it at start), gone after.
        self.database = tempfile.TemporaryDirectory(prefix=f"{service}-{mode}-db-")
        env.setdefault("DB_PATH", str(Path(self.database.name) / "db.sqlite3"))
        self.env = serve_env(SERVER_MODE=mode, PORT=self.port, **env)
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> LiveServer:
        self.process = subprocess.Popen(
            [part.replace("{port}", str(self.port)) for part in self.command],
            cwd=ROOT,
            env=self.env,
            stdout=self.output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.service} ({self.mode}) exited {self.process.returncode}:\n{self.log()}")
            try:
                status, body, _ = get_json(self.url + (self.ready or "/healthz"), timeout=2)
                if status == 200 and (self.ready or body.get("status") == "ok"):
                    return self
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        log = self.log()
        self.stop()
        raise RuntimeError(f"{self.service} ({self.mode}) not healthy in {timeout} s:\n{log}")

    def get(self, path: str, timeout: float = 60) -> tuple[int, dict, dict]:
        return get_json(self.url + path, timeout)

    def log(self) -> str:
        return Path(self.output.name).read_text(errors="replace")

    def pids(self) -> list[int]:
        """The server process and every descendant (workers, their children)."""
        parents = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit() and (fields := stat_fields(entry.name)) is not None:
                parents[int(entry.name)] = int(fields[1])
        tree, frontier = [self.process.pid], [self.process.pid]
        while frontier:
            frontier = [pid for pid, parent in parents.items() if parent in frontier]
            tree += frontier
        return tree

    def cpu(self) -> float:
        """CPU seconds of the whole tree: utime + stime of each live process, plus cutime +
        cstime (its children that exited and were waited for)."""
        ticks = 0
        for pid in self.pids():
            if (fields := stat_fields(pid)) is not None:
                ticks += sum(int(value) for value in fields[11:15])
        return ticks / TICKS

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            # The whole group: uvicorn/gunicorn workers are children of the server process.
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.database.cleanup()
