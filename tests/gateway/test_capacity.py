"""The gateway's call budget: all-or-nothing admission, each slot given back exactly once."""

import threading

from gateway.capacity import Capacity


def test_an_aggregation_is_admitted_whole_or_not_at_all():
    capacity = Capacity(10)
    first = capacity.reserve(6)
    assert first is not None and capacity.in_use == 6
    assert capacity.reserve(5) is None and capacity.in_use == 6  # refused: nothing taken
    assert capacity.reserve(4) is not None and capacity.in_use == 10


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

        def worker(index):
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


def test_the_client_knob_offers_exactly_the_registered_clients():
    import re

    from gateway.clients import AUTO, CLIENTS, pick
    from tests.live import ROOT

    settings_text = (ROOT / "gateway" / "settings.py").read_text()
    [choices] = re.findall(r'GATEWAY_CLIENT = env\(.*choices=\(([^)]*)\)', settings_text)
    assert sorted(re.findall(r'"([a-z]+)"', choices)) == sorted(["auto", *CLIENTS])
    assert pick("auto", "async").NAME == AUTO["async"] and pick("auto", "sync").SYNC
    assert all(module.SYNC or name == "aiohttp" for name, module in CLIENTS.items())


def test_loadgen_offers_the_gateways_client_choices():
    from gateway.clients import CLIENTS
    from loadgen.cli import CLIENTS as OFFERED

    assert sorted(OFFERED) == sorted(["auto", *CLIENTS])
