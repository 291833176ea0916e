"""`loadgen chat`, small, against a live asgi backend: every delivery accounted for and timed,
one histogram over --workers, slow readers measured, the report section and its plot; and
its pure parts (the send schedule, the accounting, the merge) and its bounds."""

import json
import subprocess
import sys

import pytest

from harness.live import ROOT
from loadgen import chatting
from loadgen.stats import Recorder


def chat(tmp_path, backend, *argv, ok=True):
    done = subprocess.run(
        [sys.executable, "-m", "loadgen", "chat", *argv, "--backend", backend.url, "--gateway", backend.url]
        + ["--results", str(tmp_path), "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if not ok:
        return done
    assert done.returncode == 0, done.stdout + done.stderr
    (path,) = tmp_path.glob("*-chat-*.json")
    return json.loads(path.read_text()), done.stdout


# A grace well past any delivery on a busy host: a message counts as lost only after it.
SMALL = ("--members", "20", "--rooms", "2", "--duration", "2s", "--grace", "5s")


def test_every_delivery_arrives_and_is_timed(tmp_path, serve):
    backend = serve("backend", "asgi")
    result, stdout = chat(tmp_path, backend, *SMALL)
    d = result["deliveries"]
    assert result["environment"]["server_mode"] == "asgi"
    assert result["variant"] == "memory-1w" and result["scenario"]["layer"] == "memory"
    assert result["connect"]["connected"] == 20 and result["connect"]["time"]["count"] == 20
    # 10 messages a second for 2 s, to rooms of 10 members each (the sender included).
    assert result["messages"]["sent"] == 20 and result["messages"]["sent_per_room"] == {"room-0": 10, "room-1": 10}
    assert d["expected"] == 200
    assert d["delivered"] == d["expected"] and d["lost"] == 0 and d["extra"] == 0
    assert result["latency"]["count"] == d["delivered"]
    assert 0 < result["latency"]["p50"] <= result["latency"]["max"]
    # The server's own count agrees: 20 frames broadcast, 200 written to members.
    after = result["server"]["gauge_after"]
    assert after["broadcasts"] - result["server"]["gauge_before"]["broadcasts"] == 20
    assert after["deliveries"] - result["server"]["gauge_before"]["deliveries"] == 200
    per = result["server"]["per"]
    assert per["rss_bytes_per_member"] is not None and per["cpu_ms_per_delivery"] > 0
    assert len(result["loadgen"]["cpu_seconds"]) == 1 and 0 < result["loadgen"]["cpu_share_max"] < 1.5
    assert "deliveries expected 200, delivered 200" in stdout

    from loadgen import results
    from loadgen.sections import chat as section

    shown = section.section(results.load(tmp_path), tmp_path)
    text = "\n".join(shown.lines)
    assert "## Chat" in text and "| asgi | memory | 1 |" in text and "200 / 200 / 0 / 0" in text
    (plot,) = shown.plots
    assert plot.path.is_file() and plot.path.with_suffix(".svg").is_file()


def test_workers_split_the_members_and_merge_one_histogram(tmp_path, serve):
    backend = serve("backend", "asgi")
    result, _ = chat(tmp_path, backend, *SMALL, "--workers", "2")
    d = result["deliveries"]
    assert result["connect"]["connected"] == 20 and d["expected"] == 200
    assert d["delivered"] == 200 and d["lost"] == 0
    # Both processes' deliveries in one histogram: its count is every delivery, exactly.
    assert result["latency"]["count"] == 200 and result["connect"]["time"]["count"] == 20
    assert len(result["loadgen"]["cpu_seconds"]) == 2


def test_slow_readers_are_measured_not_guessed(tmp_path, serve):
    backend = serve("backend", "asgi")
    result, stdout = chat(tmp_path, backend, *SMALL, "--slow-readers", "4")
    d, slow = result["deliveries"], result["deliveries"]["slow_readers"]
    # Members 16..19 (rooms 0 and 1, two each) did not read while 20 messages went out, 10 per room.
    assert slow["expected"] == 4 * 10
    assert slow["delivered"] + slow["lost"] == slow["expected"]
    # The others read: 16 members, 8 per room, every message.
    assert d["expected"] == 160 and d["delivered"] + d["lost"] == 160
    # The in-memory layer's own count of what it dropped for a full member: a number, read from the server.
    assert isinstance(result["server"]["layer_full"], int)
    assert f"slow readers got {slow['delivered']} of 40" in stdout


def test_a_room_refused_by_the_server_is_counted_not_hidden(tmp_path, serve):
    backend = serve("backend", "asgi", CHAT_ROOM_MEMBERS=5)
    result, _ = chat(tmp_path, backend, *SMALL)
    # Rooms of 10 admitted 5 each: 10 refused at the handshake, and only the admitted expected.
    assert result["connect"]["connected"] == 10 and result["connect"]["refused"] == 10
    d = result["deliveries"]
    assert d["delivered"] == d["expected"] and d["lost"] == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--members", "2", "--rooms", "3"), "--rooms 3 is more than --members 2"),
        (("--members", "4", "--rooms", "1", "--senders", "3", "--slow-readers", "2"), "are more than --members 4"),
        (("--members", "0"), "must be more than 0"),
        (("--members", "20001"), "must be at most 20000"),
        (("--message-rate", "10001"), "must be at most 10000"),
        (("--duration", "2h"), "must be 0.1 s to 3600 s"),
        (("--text-bytes", "9000"), "must be 0 to 8192"),
    ],
)
def test_every_option_is_bounded(tmp_path, argv, message):
    class Nowhere:
        url = "http://127.0.0.1:9"

    done = chat(tmp_path, Nowhere, *argv, ok=False)
    assert done.returncode != 0 and message in done.stderr + done.stdout


def scenario(**changes):
    base = dict(
        backend="http://x",
        members=10,
        rooms=2,
        senders=3,
        message_rate=6.0,
        connect_rate=100.0,
        duration=1.0,
        slow_readers=0,
        late=1.0,
        grace=0.0,
        text_bytes=0,
        run="r",
    )
    return chatting.Scenario(**{**base, **changes})


def test_the_senders_take_turns_at_the_message_rate():
    s = scenario()
    offsets = sorted(o for sender in range(3) for o in s.sends(sender))
    # 6 a second for 1 s: six messages, 1/6 s apart, the first at once.
    assert offsets == pytest.approx([n / 6 for n in range(6)])
    assert [len(s.sends(sender)) for sender in range(3)] == [2, 2, 2]


def test_members_are_spread_over_rooms_and_the_last_are_the_slow_readers():
    s = scenario(slow_readers=2)
    assert [s.room(m) for m in range(4)] == ["room-0", "room-1", "room-0", "room-1"]
    assert [m for m in range(10) if s.slow(m)] == [8, 9]


def test_the_accounting_counts_every_member_of_each_room():
    merged = {
        "counts": {"delivered": 25, "late": 2, "slow_delivered": 3},
        "sent": {"room-0": 4, "room-1": 2},
        "connected": {"room-0": 5, "room-1": 3},
        "connected_slow": {"room-0": 1},
    }
    found = chatting.deliveries(merged, 1.0)
    assert found["expected"] == 4 * 5 + 2 * 3 == 26
    assert found["lost"] == 1 and found["extra"] == 0 and found["late"] == 2
    assert found["slow_readers"] == {"expected": 4, "delivered": 3, "lost": 1}


def test_shares_merge_into_one_exact_histogram():
    parts = []
    for values in ((0.001, 0.002), (0.5,)):
        tally = chatting.Tally()
        for value in values:
            tally.latency.record(value)
        tally.counts["delivered"] += len(values)
        parts.append(tally.part())
    merged = chatting.merge(parts)
    whole = Recorder()
    for value in (0.001, 0.002, 0.5):
        whole.record(value)
    assert merged["latency"].count == 3 and merged["counts"]["delivered"] == 3
    assert merged["latency"].summary() == whole.summary()


def test_a_slow_reader_loses_what_the_layer_drops_and_every_message_is_accounted_for(tmp_path, serve):
    # One member that reads nothing while 16 MB are sent to it: past what the sockets hold
    # (about 11 MB measured on loopback), its consumer's writes wait, its queue in the layer
    # fills, and Channels drops the next messages for it. Every message sent to every member
    # is either written by its consumer or dropped by the layer, and every one written arrives.
    backend = serve("backend", "asgi")
    result, _ = chat(
        tmp_path,
        backend,
        *("--members", "6", "--rooms", "1", "--senders", "5", "--message-rate", "200", "--duration", "10s"),
        *("--text-bytes", "8000", "--slow-readers", "1", "--grace", "5s"),
    )
    d, slow = result["deliveries"], result["deliveries"]["slow_readers"]
    before, after = result["server"]["gauge_before"], result["server"]["gauge_after"]
    written = after["deliveries"] - before["deliveries"]
    dropped = result["server"]["layer_full"]
    assert slow["expected"] == result["messages"]["sent"] == 2000
    assert dropped > 0 and slow["lost"] > 0
    assert written + dropped == 6 * 2000
    assert d["delivered"] + slow["delivered"] == written
    # What nobody got is what the layer dropped.
    assert d["lost"] + slow["lost"] == dropped
