"""python -m loadgen.entry [ARGS]: loadgen's container entrypoint, then `python -m loadgen ARGS`.

compose starts loadgen as root so that it can become whoever owns the results folder: the
files it writes then belong to the host user who made results/, whatever their uid, with
no variable to set. An explicit LAB_UID starts it as that user instead, and nothing changes.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

# Root holds SETUID/SETGID/SETPCAP (compose's cap_add) only until setpriv has used them.
# Changing to a non-root uid drops capabilities by itself, but staying uid 0 (a root-owned
# folder) does not: only an empty bounding set (which takes SETPCAP to clear) stops the
# exec of loadgen from getting them back, leaving uid 0's owner permissions and no more.
SETPRIV = ("--clear-groups", "--inh-caps=-all", "--bounding-set=-all")


def results_folder(argv: list[str], environ: dict[str, str]) -> Path:
    """The folder loadgen will write: --results from argv wins over LOADGEN_RESULTS, as in the CLI."""
    folder = environ.get("LOADGEN_RESULTS", "").strip() or "results"
    for i, word in enumerate(argv):
        if word == "--results" and i + 1 < len(argv):
            folder = argv[i + 1]
        elif word.startswith("--results="):
            folder = word.split("=", 1)[1]
    return Path(folder)


def owner(folder: Path) -> tuple[int, int]:
    """uid, gid of the folder, or of its nearest existing parent if loadgen is to create it."""
    path = folder.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    info = path.stat()
    return info.st_uid, info.st_gid


def command(
    uid: int, folder_owner: tuple[int, int], argv: list[str], python: str = sys.executable, setpriv: str = "setpriv"
) -> list[str]:
    """What to exec: loadgen as it is when not root, else loadgen under setpriv as the folder's owner."""
    loadgen = [python, "-m", "loadgen", *argv]
    if uid != 0:
        return loadgen
    owner_uid, owner_gid = folder_owner
    return [setpriv, "--reuid", str(owner_uid), "--regid", str(owner_gid), *SETPRIV, *loadgen]


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    uid = os.getuid()
    setpriv = "setpriv"
    folder_owner = (uid, os.getgid())
    if uid == 0:
        setpriv = shutil.which("setpriv") or ""
        if not setpriv:
            # Running on as root with SETUID/SETGID would be worse than not running.
            print("loadgen: cannot drop root: setpriv (util-linux) is not in the image", file=sys.stderr)
            sys.exit(2)
        folder_owner = owner(results_folder(argv, dict(os.environ)))
    argv = command(uid, folder_owner, argv, setpriv=setpriv)
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main()
