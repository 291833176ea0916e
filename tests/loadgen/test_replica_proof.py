"""Who may command a loadgen replica and where it may send requests, as units
(loadgen/handshake.py, targets.py): the proof, the secret, the allow-list; and a replica
that refuses to start without them. The live replicas: test_replica_access.py."""

from __future__ import annotations

import subprocess
import sys

import pytest

from asynclab.knobs import hosts
from harness.live import ROOT, free_port
from loadgen import handshake, targets
from tests.loadgen.conftest import write_secret

SECRET = b"s" * 32

# ---------------------------------------------------------------- units


def test_a_proof_binds_the_secret_both_nonces_and_the_side():
    r, c = handshake.nonce(), handshake.nonce()
    proof = handshake.mac(SECRET, "conductor", r, c)
    assert handshake.proves(SECRET, "conductor", r, c, proof)
    assert not handshake.proves(b"t" * 32, "conductor", r, c, proof)  # another secret
    assert not handshake.proves(SECRET, "conductor", handshake.nonce(), c, proof)  # a new challenge
    assert not handshake.proves(SECRET, "conductor", r, handshake.nonce(), proof)  # another nonce of theirs
    assert not handshake.proves(SECRET, "replica", c, r, proof)  # reflected as the other side's
    assert not handshake.proves(SECRET, "conductor", r, c, None)
    assert SECRET.hex() not in proof and SECRET.decode() not in proof


def test_a_secret_must_exist_and_be_long_enough(tmp_path):
    with pytest.raises(handshake.SecretError, match="no secret"):
        handshake.read_secret("")
    with pytest.raises(handshake.SecretError, match="No such file"):
        handshake.read_secret(tmp_path / "missing")
    (tmp_path / "short").write_text("tooshort\n")
    with pytest.raises(handshake.SecretError, match="is 8 bytes"):
        handshake.read_secret(tmp_path / "short")
    assert handshake.read_secret(write_secret(tmp_path)) == (tmp_path / "loadgen-secret").read_bytes().strip()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("gateway,backend,edge", "gateway,backend,edge"),
        (" Gateway. ,  backend ", "gateway,backend"),
        ("[::1] 127.0.0.1", "::1,127.0.0.1"),
        ("gateway,gateway", "gateway"),
    ],
)
def test_the_allow_list_is_read_as_host_names(text, expected):
    assert hosts(text) == expected


@pytest.mark.parametrize("text", ["", " , ", "*", "gateway/x", "a@b", "gatéway"])
def test_an_empty_or_odd_allow_list_is_refused(text):
    with pytest.raises(ValueError):
        hosts(text)


@pytest.mark.parametrize(
    "url, allowed",
    [
        ("http://gateway:8000/api/aggregated/?n=1", True),
        ("http://GATEWAY.:8000/", True),
        ("https://edge:8080/", True),
        ("http://gateway@evil.example/", False),  # user info: the host is the one after @
        ("http://evil.example/?gateway", False),
        ("http://gateway.evil.example/", False),
        ("http://10.0.0.1/", False),
        ("http://[::1]/", False),
    ],
)
def test_a_plan_url_is_judged_by_the_host_aiohttp_would_connect_to(url, allowed):
    stack = targets.allowed(hosts(targets.DEFAULT))
    if allowed:
        targets.check([url], stack)
    else:
        with pytest.raises(ValueError, match="this replica loads only"):
            targets.check([url], stack)


# ---------------------------------------------------------------- a replica's start


def start(secret_args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "loadgen", "replica", "--listen", f"127.0.0.1:{free_port()}", *secret_args],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_replica_without_a_secret_refuses_to_start(tmp_path):
    # From a folder with no build/loadgen-secret and no /run/secrets: nothing to find.
    done = subprocess.run(
        [sys.executable, "-m", "loadgen", "replica", "--listen", f"127.0.0.1:{free_port()}"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "refusing to start" in done.stderr and "make secrets" in done.stderr
    (tmp_path / "short").write_text("x" * 10)
    done = start(["--secret-file", str(tmp_path / "short")])
    assert done.returncode == 2 and "is 10 bytes" in done.stderr


def test_a_replica_with_an_empty_allow_list_refuses_to_start(tmp_path):
    secret = str(write_secret(tmp_path))
    done = start(["--secret-file", secret], {"LOADGEN_REPLICA_TARGETS": " "})
    assert done.returncode == 2 and "LOADGEN_REPLICA_TARGETS is set but empty" in done.stderr
    done = start(["--secret-file", secret, "--targets", ","])
    assert done.returncode == 2 and "name at least one host" in done.stderr
