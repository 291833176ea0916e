import pytest

from asynclab import cpu


@pytest.mark.parametrize(
    ("cpu_max", "cores"), [("max 100000\n", None), ("50000 100000\n", 0.5), ("150000 100000", 1.5), ("200000 50000", 4)]
)
def test_a_cgroup_v2_quota_is_read_in_cores(cpu_max, cores):
    assert cpu.quota_cores(cpu_max) == cores


@pytest.mark.parametrize(("quota", "period", "cores"), [("-1\n", "100000\n", None), ("50000\n", "100000\n", 0.5)])
def test_a_cgroup_v1_quota_is_read_in_cores(quota, period, cores):
    assert cpu.quota_cores(quota_us=quota, period_us=period) == cores


def test_no_cgroup_files_mean_no_quota():
    assert cpu.quota_cores() is None


def test_the_budget_of_a_v1_tree_is_its_quota_and_cpuset(tmp_path):
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpuset").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("25000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    (tmp_path / "cpuset" / "cpuset.cpus").write_text("0\n")
    found = cpu.budget(tmp_path)
    assert (found["quota"], found["cpuset"]) == (0.25, "0")
    assert found["cores"] == 0.25  # below the CPUs this process may run on


def test_the_budget_of_a_v2_tree_without_a_limit_is_the_usable_cpus(tmp_path):
    (tmp_path / "cpu.max").write_text("max 100000\n")
    (tmp_path / "cpuset.cpus.effective").write_text("0-1\n")
    found = cpu.budget(tmp_path)
    assert found["quota"] is None and found["cpuset"] == "0-1"
    assert found["cores"] >= 1 and found["online"] >= found["cores"]
