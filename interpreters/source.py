"""The CPython source both lab interpreters are built from, fetched on the host.

`python -m interpreters.source [DEST_DIR]` reads docker/python/source.txt (Debian's
python3.14 source package: its orig tarball, the directory in the archive, size and
SHA-256), finds the Debian mirror the host's own apt configuration names, downloads the
tarball into DEST_DIR (build/python by default) and keeps it only if its size and SHA-256
match; it prints the file's path. Nothing here is written down about the mirror: the same
host name the base images come from (docker/base-image.sh), read from apt each time.

A tarball already there with the right hash is not fetched again, so the interpreter
images rebuild with no network at all once it is.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "docker" / "python" / "source.txt"
DEST = ROOT / "build" / "python"
FIELDS = ("package", "version", "directory", "file", "size", "sha256")


class SourceError(RuntimeError):
    """The source cannot be had as pinned: say which and why."""


@dataclass(frozen=True)
class Source:
    package: str
    version: str
    directory: str
    file: str
    size: int
    sha256: str

    def url(self, mirror: str) -> str:
        return f"{mirror.rstrip('/')}/{self.directory.strip('/')}/{self.file}"


def parse(text: str) -> Source:
    """The lock: `name value` lines, `#` comments; every field once, nothing else."""
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, value = line.partition(" ")
        if name not in FIELDS or not value.strip() or name in found:
            raise SourceError(f"{LOCK.name} line {number}: expected one of {', '.join(FIELDS)} once, with a value")
        found[name] = value.strip()
    missing = [name for name in FIELDS if name not in found]
    if missing:
        raise SourceError(f"{LOCK.name}: missing {', '.join(missing)}")
    if len(found["sha256"]) != 64 or any(c not in "0123456789abcdef" for c in found["sha256"]):
        raise SourceError(f"{LOCK.name}: sha256 must be 64 lower-case hex digits")
    if "/" in found["file"] or not found["size"].isdigit():
        raise SourceError(f"{LOCK.name}: file must be a bare name and size a whole number of bytes")
    return Source(**{**found, "size": int(found["size"])})


def mirror(indextargets: str | None = None) -> str:
    """The Debian mirror of the host's apt configuration: the site of its first Packages
    index (what `apt-get indextargets` lists after an `apt-get update`)."""
    if indextargets is None:
        if shutil.which("apt-get") is None:
            raise SourceError("no apt-get: this host names no Debian mirror to fetch the CPython source from")
        indextargets = subprocess.run(
            ["apt-get", "indextargets", "--no-release-info", "--format", "$(SITE)", "Identifier: Packages"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
    for line in indextargets.splitlines():
        # The security archive carries no source of python3.14: the main archive does.
        if line.strip().startswith(("http://", "https://")) and "security" not in line:
            return line.strip()
    raise SourceError("the host's apt configuration lists no Debian mirror (run apt-get update once)")


def digest(path: Path) -> tuple[int, str]:
    sha, size = hashlib.sha256(), 0
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            sha.update(chunk)
            size += len(chunk)
    return size, sha.hexdigest()


def check(source: Source, path: Path) -> None:
    size, sha = digest(path)
    if (size, sha) != (source.size, source.sha256):
        raise SourceError(
            f"{path.name}: {size} bytes with SHA-256 {sha}, but {LOCK.name} pins {source.size} bytes, {source.sha256}"
        )


def fetch(source: Source, dest: Path, site: str | None = None, timeout: float = 120) -> Path:
    """The tarball in `dest`, downloaded only when it is not there with the pinned hash."""
    target = dest / source.file
    if target.is_file():
        try:
            check(source, target)
            return target
        except SourceError:
            target.unlink()
    url = source.url(site or mirror())
    dest.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, partial.open("wb") as out:
            shutil.copyfileobj(response, out, 1 << 20)
    except (urllib.error.URLError, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise SourceError(f"{url}: {exc} ({source.package} {source.version}: is it still on the mirror?)") from None
    try:
        check(source, partial)
    except SourceError:
        partial.unlink()
        raise
    partial.replace(target)
    return target


def main(argv: list[str]) -> int:
    if len(argv) > 1:
        print("usage: python -m interpreters.source [DEST_DIR]", file=sys.stderr)
        return 2
    try:
        source = parse(LOCK.read_text())
        path = fetch(source, Path(argv[0]) if argv else DEST)
    except SourceError as exc:
        print(f"interpreters.source: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
