"""The image's entrypoint: `python -m asynclab.entrypoint backend|gateway`.

Maps SERVER_MODE to a server command, checks every knob before anything starts, logs one
startup line with the mode and the exact server options, then becomes the server (exec),
so signals from `docker stop` reach it directly.
"""

from __future__ import annotations

import importlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import features, telemetry, upstream
from .config import ConfigError
from .servers import SERVICES, ServerConfig


def telemetry_folder(service: str) -> Path:
    """A fresh folder for this server's worker files: in memory when /dev/shm is there."""
    base = Path("/dev/shm") if os.access("/dev/shm", os.W_OK) else Path(tempfile.gettempdir())
    folder = base / f"asynclab-{service}-{os.getpid()}"
    # A restarted container can reuse the pid: old workers' files must not show up. And
    # servers that are gone (tests start many on one host) leave nothing behind.
    for old in [folder, *base.glob("asynclab-*-*")]:
        pid = old.name.rsplit("-", 1)[-1]
        if old == folder or (pid.isdigit() and not os.path.exists(f"/proc/{pid}")):
            shutil.rmtree(old, ignore_errors=True)
    return folder


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(f"usage: python -m asynclab.entrypoint {{{'|'.join(SERVICES)}}}", file=sys.stderr)
        return 2
    service = argv[0]
    try:
        server = ServerConfig.from_env(service)
        # A knob this Django cannot honour stops the service here, naming the knob.
        features.check(service)
        # Import the service's settings now: a bad knob fails here, once, with its name,
        # instead of as a traceback in every worker the server would start.
        settings = importlib.import_module(f"{service}.settings")
    except ConfigError as exc:
        print(f"asynclab: {service}: {exc}", file=sys.stderr)
        return 2
    os.environ["DJANGO_SETTINGS_MODULE"] = f"{service}.settings"
    if service == "gateway" and not upstream.wait():
        return 1
    # A database is migrated (and seeded) before any worker exists, in a child process so
    # this one never imports Django before the server forks.
    if settings.DATABASES:
        migrated = subprocess.run([sys.executable, "-m", "asynclab.migrate", service])
        if migrated.returncode != 0:
            return migrated.returncode
    # Where this server's workers publish their telemetry; the pid survives the exec below.
    os.environ[telemetry.DIR_ENV] = str(telemetry_folder(service))
    os.environ[telemetry.MASTER_ENV] = str(os.getpid())
    command = server.command()
    # The interpreter too: 3.14t is the free-threaded build (each worker's warm line then
    # says whether its GIL stayed off, asynclab/gil.py).
    startup = {"event": "startup", **server.describe(), "python": features.python(), "command": shlex.join(command[1:])}
    print(json.dumps(startup), flush=True)
    os.execv(command[0], command)
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
