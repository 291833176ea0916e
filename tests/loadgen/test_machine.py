"""The machine's record: /proc parsers on sample texts, and the notes that use them."""

import pytest

from loadgen import lab, machine

STAT = """cpu  330370 12 107427 354999 3318 0 2457 3272 0 0
cpu0 148593 0 52091 196530 1037 0 792 1629 0 0
cpu1 181777 12 55336 158469 2281 0 1665 1643 0 0
intr 123456 0 0
ctxt 99999
"""

CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7B13
cpu MHz\t\t: 2445.424
flags\t\t: fpu vme

processor\t: 1
model name\t: AMD EPYC 7B13
cpu MHz\t\t: 2999.000
"""

MEMINFO = """MemTotal:        8137924 kB
MemFree:          512340 kB
"""


def test_the_aggregate_cpu_line_is_parsed():
    times = machine.parse_stat(STAT)
    assert times == machine.CpuTimes(330370, 12, 107427, 354999, 3318, 0, 2457, 3272)
    # guest and guest_nice are inside user and nice already.
    assert times.total == 330370 + 12 + 107427 + 354999 + 3318 + 0 + 2457 + 3272
    assert machine.parse_stat("cpu  1 2 3 4\n") == machine.CpuTimes(1, 2, 3, 4, 0, 0, 0, 0)
    assert machine.parse_stat("cpu0 1 2 3 4\n") is None


def test_steal_and_busy_shares_of_a_window():
    start = machine.CpuTimes(100, 0, 50, 1000, 10, 0, 0, 5)
    # 400 ticks: 200 user, 100 system, 60 idle, 20 iowait, 20 steal.
    end = machine.CpuTimes(300, 0, 150, 1060, 30, 0, 0, 25)
    shares = machine.shares(start, end, cores=4)
    assert shares == {"steal_share": pytest.approx(0.05), "busy_share": pytest.approx(0.8), "cores": 4}
    assert machine.shares(None, end, cores=4) == {"steal_share": None, "busy_share": None, "cores": 4}
    assert machine.shares(end, end, cores=4)["busy_share"] is None


def test_cpuinfo_and_meminfo():
    assert machine.parse_cpuinfo(CPUINFO) == {"cpu_model": "AMD EPYC 7B13", "cpu_mhz": 2445.424}
    # ARM kernels name no model and no clock.
    assert machine.parse_cpuinfo("processor\t: 0\nBogoMIPS\t: 50.00\n") == {"cpu_model": None, "cpu_mhz": None}
    assert machine.parse_meminfo(MEMINFO) == 8137924 * 1024
    assert machine.parse_meminfo("") is None


def test_describe_has_every_field():
    described = machine.describe()
    assert set(described) == {"cores", "cpu_model", "cpu_mhz", "kernel", "memory_bytes"}
    assert described["cores"] >= 1 and described["kernel"]


def loadgen(share, workers=1, busiest=None, cores=8):
    figures = {"loadgen": {"cpu_share": share, "saturated": (busiest or share) >= 0.85, "workers": workers}}
    if busiest is not None:
        figures["loadgen"]["busiest_share"] = busiest
    figures["machine"] = {"cores": cores, "steal_share": 0.0, "busy_share": 0.5}
    return figures


def test_a_saturated_loadgen_names_the_flag_that_helps():
    assert lab.flags(loadgen(0.92)) == ["loadgen saturated (92% CPU): add --workers 2"]
    assert lab.flags(loadgen(1.8, workers=2, busiest=0.9)) == [
        "loadgen saturated (90% CPU in the busiest of 2 processes): add --workers 3"
    ]
    assert "no core left" in lab.flags(loadgen(1.8, workers=2, busiest=0.9, cores=2))[0]
    # Two processes at 60 % each: 1.2 cores in all, but neither is the bottleneck.
    assert lab.flags(loadgen(1.2, workers=2, busiest=0.6)) == []
    # Replicas elsewhere: more of them, unless the plan could not give the ones there work.
    replicated = loadgen(1.8, workers=2, busiest=0.9, cores=2)
    replicated["loadgen"]["replicas"] = 2
    assert lab.flags(replicated) == [
        "loadgen saturated (90% CPU in the busiest of 2 replicas): add replicas (LOADGEN_REPLICAS=3)"
    ]
    replicated["loadgen"].update(replicas=3)
    assert "only 2 of 3 replicas had clients" in lab.flags(replicated)[0]
    # Results saved before --workers existed.
    assert lab.flags({"loadgen": {"cpu_share": 0.9, "saturated": True}}) == [
        "loadgen saturated (90% CPU): add --workers 2"
    ]
