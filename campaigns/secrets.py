"""`make secrets`: the lab's secrets, random, written once, git-ignored (build/), never in the
repo: PostgreSQL's password and the one loadgen's replicas demand of their conductor
(docs/swarm.md). `python -m campaigns.secrets LABEL=FILE ...`.

0644 because the containers read them as their own users; the postgres image sets its
password again at every start, so a new one works with an existing volume.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

# 32 random bytes, 43 characters: what loadgen's handshake asks of a secret at least.
BYTES = 32


def write(path: Path, label: str) -> bool:
    """Write a new secret to `path` unless one is there; whether it wrote one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A folder in the file's place is what docker leaves when the file was missing at a mount.
    if path.is_dir():
        path.rmdir()
    if path.is_file() and path.stat().st_size > 0:
        return False
    path.write_text(secrets.token_urlsafe(BYTES) + "\n")
    path.chmod(0o644)
    print(f"wrote a new {label} to {path}")
    return True


def main(argv: list[str]) -> int:
    pairs = [arg.partition("=") for arg in argv]
    if not pairs or any(not label or not sep or not file for label, sep, file in pairs):
        print("usage: python -m campaigns.secrets LABEL=FILE ...", file=sys.stderr)
        return 2
    for label, _, file in pairs:
        write(Path(file), label)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
