"""interpreters/source.py: the CPython tarball is read from the lock, fetched from the
mirror apt names, and kept only with the pinned size and SHA-256 (a local HTTP server
stands in for the mirror)."""

import hashlib
import http.server
import threading

import pytest

from interpreters import source
from interpreters.source import Source, SourceError

LOCK = """# a comment
package python3.14
version 3.14.7-1
directory pool/main/p/python3.14   # trailing comment
file python3.14_3.14.7.orig.tar.xz
size {size}
sha256 {sha}
"""


def lock(body: bytes) -> Source:
    return source.parse(LOCK.format(size=len(body), sha=hashlib.sha256(body).hexdigest()))


def test_the_lock_in_the_repository_parses():
    pinned = source.parse(source.LOCK.read_text())
    assert pinned.package == "python3.14" and pinned.file.endswith(".orig.tar.xz")
    assert pinned.url("http://mirror/debian/") == f"http://mirror/debian/{pinned.directory}/{pinned.file}"


@pytest.mark.parametrize(
    "text",
    [
        LOCK.format(size=1, sha="0" * 64).replace("package python3.14\n", ""),
        LOCK.format(size=1, sha="0" * 64) + "package again\n",
        LOCK.format(size=1, sha="xyz"),
        LOCK.format(size="ten", sha="0" * 64),
        LOCK.format(size=1, sha="0" * 64) + "colour blue\n",
    ],
)
def test_a_lock_missing_a_field_or_with_a_bad_one_is_refused(text):
    with pytest.raises(SourceError):
        source.parse(text)


def test_the_mirror_is_the_first_main_archive_apt_lists():
    listed = "http://security.example/debian-security\nhttp://mirror.example/debian\nhttp://other/debian\n"
    assert source.mirror(listed) == "http://mirror.example/debian"
    with pytest.raises(SourceError, match="lists no Debian mirror"):
        source.mirror("")


@pytest.fixture
def mirror(tmp_path):
    """A folder served over HTTP on loopback; (its root, its URL, the requests it saw)."""
    root = tmp_path / "mirror"
    root.mkdir()
    seen = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):
            seen.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}/debian", seen
    server.shutdown()


def put(root, pinned: Source, body: bytes):
    folder = root / "debian" / pinned.directory
    folder.mkdir(parents=True, exist_ok=True)
    (folder / pinned.file).write_bytes(body)


def test_the_tarball_is_fetched_checked_and_not_fetched_again(mirror, tmp_path):
    root, url, seen = mirror
    body = b"not really a tarball" * 1000
    pinned = lock(body)
    put(root, pinned, body)
    path = source.fetch(pinned, tmp_path / "dest", site=url)
    assert path.read_bytes() == body and len(seen) == 1
    assert source.fetch(pinned, tmp_path / "dest", site=url) == path and len(seen) == 1


def test_a_tarball_that_is_not_the_pinned_one_is_not_kept(mirror, tmp_path):
    root, url, _ = mirror
    pinned = lock(b"the real one")
    put(root, pinned, b"something else")
    with pytest.raises(SourceError, match="pins"):
        source.fetch(pinned, tmp_path / "dest", site=url)
    assert list((tmp_path / "dest").iterdir()) == []


def test_a_tarball_the_mirror_lacks_names_the_version(mirror, tmp_path):
    _, url, _ = mirror
    with pytest.raises(SourceError, match=r"python3\.14 3\.14\.7-1: is it still on the mirror"):
        source.fetch(lock(b"x"), tmp_path / "dest", site=url)


def test_a_damaged_copy_on_disk_is_fetched_again(mirror, tmp_path):
    root, url, seen = mirror
    body = b"the real one"
    pinned = lock(body)
    put(root, pinned, body)
    (tmp_path / "dest").mkdir()
    (tmp_path / "dest" / pinned.file).write_bytes(b"truncated")
    assert source.fetch(pinned, tmp_path / "dest", site=url).read_bytes() == body and len(seen) == 1
