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


def test_a_v1_container_reports_its_cgroup_mounted_at_the_root_in_seconds(tmp_path):
    # Inside a v1 container /proc/self/cgroup names the host's path; the mount is its own cgroup.
    (tmp_path / "cpuacct").mkdir()
    (tmp_path / "cpuacct" / "cpuacct.usage").write_text("2500000000\n")
    own = "4:cpu,cpuacct:/docker/abc123\n3:memory:/docker/abc123\n"
    assert cpu.container_seconds(tmp_path, own) == 2.5


def test_a_v1_host_process_reports_its_own_cgroup_not_the_machines(tmp_path):
    (tmp_path / "cpuacct" / "user.slice").mkdir(parents=True)
    (tmp_path / "cpuacct" / "cpuacct.usage").write_text("9000000000\n")
    (tmp_path / "cpuacct" / "user.slice" / "cpuacct.usage").write_text("1000000000\n")
    assert cpu.container_seconds(tmp_path, "4:cpuacct,cpu:/user.slice\n") == 1.0


def test_a_process_in_the_v1_root_cgroup_reports_none_as_that_counter_is_the_machines(tmp_path):
    (tmp_path / "cpuacct").mkdir()
    (tmp_path / "cpuacct" / "cpuacct.usage").write_text("9000000000\n")
    assert cpu.container_seconds(tmp_path, "4:cpu,cpuacct:/\n") is None


def test_a_v2_cgroup_reports_its_usage_in_seconds(tmp_path):
    (tmp_path / "cgroup.controllers").write_text("cpu memory\n")
    (tmp_path / "cpu.stat").write_text("usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n")
    assert cpu.container_seconds(tmp_path, "0::/\n") == 1.5


def test_no_readable_cgroup_means_no_container_cpu(tmp_path):
    assert cpu.container_seconds(tmp_path, "4:cpu,cpuacct:/docker/abc\n") is None
