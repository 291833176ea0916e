"""The gateway's call budget: all-or-nothing admission, each slot given back exactly once."""

import subprocess
import sys
import threading

import pytest

from asynclab import api
from gateway.capacity import Capacity, OverCapacity


def test_an_aggregation_is_admitted_whole_or_not_at_all():
    capacity = Capacity(10)
    capacity.reserve(6)
    assert capacity.in_use == 6
    with pytest.raises(OverCapacity, match="6 of 10 backend calls in flight; this aggregation needs 5"):
        capacity.reserve(5)
    assert capacity.in_use == 6  # refused: nothing taken
    capacity.reserve(4)
    assert capacity.in_use == 10


def test_a_slot_is_held_for_its_block_and_the_ticket_gives_back_the_rest():
    capacity = Capacity(10)
    with capacity.reserve(4) as ticket:
        with ticket.slot(0) as claimed:
            assert claimed and capacity.in_use == 4
        assert capacity.in_use == 3
        with pytest.raises(RuntimeError), ticket.slot(1):
            raise RuntimeError("a failed call gives its slot back too")
        assert capacity.in_use == 2
    assert capacity.in_use == 0  # calls 2 and 3 never started
    with ticket.slot(2) as claimed:
        assert not claimed, "a call given back at the end must not run"
    assert capacity.in_use == 0


def test_run_calls_release_themselves_and_close_releases_the_rest():
    capacity = Capacity(10)
    ticket = capacity.reserve(4)
    assert ticket.start(0) and ticket.start(1)
    ticket.finish()
    assert capacity.in_use == 3  # call 1 is still running
    ticket.close()  # calls 2 and 3 never started
    assert capacity.in_use == 1
    assert not ticket.start(2), "a call given back at close must not run"
    ticket.finish()
    assert capacity.in_use == 0
    ticket.close()
    assert capacity.in_use == 0, "closing twice gives nothing back twice"


def test_starting_and_closing_race_without_losing_or_doubling_a_slot():
    for _ in range(200):
        capacity = Capacity(100)
        ticket = capacity.reserve(50)
        started = []

        def worker(index, ticket=ticket, started=started):
            if ticket.start(index):
                started.append(index)
                ticket.finish()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(50)]
        for thread in threads[:25]:
            thread.start()
        ticket.close()
        for thread in threads[25:]:
            thread.start()
        for thread in threads:
            thread.join()
        assert capacity.in_use == 0


def test_the_client_knob_offers_exactly_the_client_choices():
    from gateway.clients import AUTO, CLIENTS, pick
    from harness.live import ROOT, serve_env

    refused = subprocess.run(
        [sys.executable, "-c", "import gateway.settings"],
        cwd=ROOT,
        env=serve_env(GATEWAY_CLIENT="curl"),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert refused.returncode != 0
    assert f"GATEWAY_CLIENT='curl': choose one of {', '.join(sorted(api.CLIENT_CHOICES))}" in refused.stderr
    # The registry declares the knob from the same list (docs/knobs.md shows these choices).
    from asynclab.knobs import KNOBS

    assert sorted(KNOBS["GATEWAY_CLIENT"].allowed()) == sorted(["auto", *CLIENTS])
    assert pick("auto", "async").NAME == AUTO["async"] and pick("auto", "sync").SYNC
    assert all(module.SYNC or name == "aiohttp" for name, module in CLIENTS.items())
