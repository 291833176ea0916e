"""docs/chat.md keeps designed figures only (limits, defaults, the campaign's workload), each
read here from the code that sets it, so a change to the code fails until the doc says the
same. Measured figures are in the report `make chat` renders, never in the doc."""

import re
from pathlib import Path

from asynclab import chat
from asynclab.knobs import KNOBS
from campaigns import chat as campaign
from loadgen import chatting
from loadgen.experiments import chat as experiment

DOC = " ".join((Path(__file__).resolve().parent.parent / "docs" / "chat.md").read_text().split())


def test_the_room_grammar_and_the_quote_bound_are_the_codes():
    low, high = re.fullmatch(r"\[A-Za-z0-9\._-\]\{(\d+),(\d+)\}", chat.ROOM.pattern).groups()
    assert f"`room`: {low}–{high} characters of `A-Za-z0-9._-`" in DOC
    assert f"quoting at most {chat.QUOTE} characters" in DOC
    assert f"closes the connection with {chat.TOO_BIG}" in DOC and f"with {chat.POLICY}." in DOC


def test_the_limits_are_the_knobs_defaults():
    assert KNOBS["CHAT_MAX_FRAME"].default == 16 * 1024 and "`CHAT_MAX_FRAME` bytes (16 KiB)" in DOC
    assert f"`CHAT_MEMBER_RATE` frames a second ({KNOBS['CHAT_MEMBER_RATE'].default:g}, a burst" in DOC
    assert f"(Channels' `capacity`, {KNOBS['CHAT_CHANNEL_CAPACITY'].default} by default" in DOC


def test_loadgens_bounds_and_defaults_are_the_codes():
    assert f"(`--members`, 1..{experiment.MAX_MEMBERS:,})" in DOC
    assert f"read for at most {chatting.DRAIN:g} s" in DOC
    source = (Path(experiment.__file__)).read_text()
    for flag in ("late", "grace"):
        default = float(
            re.search(rf'"--{flag}",\n\s+env="LOADGEN_{flag.upper()}",\n\s+default=([\d.]+)', source).group(1)
        )
        assert f"`--{flag}` ({default:g} s)" in DOC


def test_the_campaigns_workload_is_its_arguments():
    args = campaign.ARGS.split()
    value = {flag: args[args.index(flag) + 1] for flag in ("--members", "--rooms", "--senders", "--message-rate")}
    members, rooms = int(value["--members"]), int(value["--rooms"])
    per_sender = float(value["--message-rate"]) / int(value["--senders"])
    assert per_sender == 1
    assert f"by default {members:,} members in {rooms} rooms of {members // rooms}, {value['--senders']} senders" in DOC
