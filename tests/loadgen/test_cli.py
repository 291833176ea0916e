import argparse
import json
import os

import pytest

from loadgen import cli, results
from loadgen.cli import build_parser
from loadgen.experiments import EXPERIMENTS, article
from loadgen.lab import Lab
from loadgen.options import arguments
from loadgen.sections import ORDER


def parse(argv, monkeypatch, **env):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return build_parser().parse_args(argv)


def test_every_flag_has_an_environment_twin(monkeypatch):
    args = parse(
        ["run"],
        monkeypatch,
        LOADGEN_CONCURRENCY="5",
        LOADGEN_DURATION="2m",
        LOADGEN_RATE="50",
        LOADGEN_URLS="http://a/ http://b/",
        LOADGEN_FAIL_IF="p99<2s;errors==0",
        LOADGEN_NO_DRAIN="yes",
        LOADGEN_TIMEOUT="90s",
    )
    assert (args.concurrency, args.duration, args.rate, args.no_drain, args.timeout) == (5, 120.0, 50.0, True, 90.0)
    assert [t.text for t in args.fail_if] == ["p99<2s", "errors==0"]


def test_a_flag_beats_its_twin(monkeypatch):
    assert parse(["run", "-c", "7"], monkeypatch, LOADGEN_CONCURRENCY="5").concurrency == 7


def test_help_names_the_twins():
    text = build_parser()._subparsers._group_actions[0].choices["run"].format_help()
    for env in ("LOADGEN_CONCURRENCY", "LOADGEN_RATE", "LOADGEN_WARMUP", "LOADGEN_TIMEOUT", "LOADGEN_FAIL_IF"):
        assert env in text


@pytest.mark.parametrize(
    ("env", "value"), [("LOADGEN_CONCURRENCY", "0"), ("LOADGEN_DURATION", "soon"), ("LOADGEN_FAIL_IF", "p99")]
)
def test_a_bad_twin_is_a_usage_error_naming_it(monkeypatch, capsys, env, value):
    with pytest.raises(SystemExit) as caught:
        parse(["run"], monkeypatch, **{env: value})
    assert caught.value.code == 2
    assert env in capsys.readouterr().err


def test_defaults_are_honest():
    args = build_parser().parse_args(["run"])
    assert args.timeout >= 60  # slow responses are measured, not dropped
    sweep = build_parser().parse_args(["sweep"])
    assert sweep.levels == (1, 10, 50, 100, 200) and sweep.delay == 0.1


# --- the results folder: checked before measuring, never lost after ---------------------


def test_preflight_passes_and_makes_a_missing_folder(tmp_path):
    folder = tmp_path / "new" / "results"
    assert cli.preflight(folder) is None
    assert folder.is_dir() and list(folder.iterdir()) == []  # its probe file is gone


def test_preflight_names_folder_owner_user_and_error(tmp_path):
    # A folder under a regular file: unwritable for root too, unlike a chmod.
    blocker = tmp_path / "file"
    blocker.write_text("")
    problem = cli.preflight(blocker / "results")
    assert problem is not None
    assert f"{blocker / 'results'}" in problem
    assert f"{blocker} is owned by uid {os.getuid()} gid {os.getgid()}" in problem
    assert f"loadgen runs as uid {os.getuid()}" in problem
    assert "Not a directory" in problem or "File exists" in problem


def test_main_stops_before_measuring_when_it_cannot_write(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")

    async def never(args):
        raise AssertionError("measured although the results folder is unwritable")

    monkeypatch.setattr(cli, "dispatch", never)
    for command in (["article"], ["report"], []):
        assert cli.main([*command, "--results", str(blocker / "results")]) == 2
        assert "cannot write the results folder" in capsys.readouterr().err


def result():
    return {
        "experiment": "article",
        "environment": {"timestamp": "2025-01-02T03:04:05", "server_mode": "asgi"},
        "rows": [{"figures": {"p50": 1.0}}],
    }


def between_markers(out, what):
    lines = out.splitlines()
    begin = lines.index(f"----- loadgen: unsaved {what} begins -----")
    end = lines.index(f"----- loadgen: unsaved {what} ends -----")
    return "\n".join(lines[begin + 1 : end])


def test_a_failed_save_puts_the_whole_result_on_stdout(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    lab = Lab(gateway="http://g", backend="http://b", results=blocker / "results")
    assert results.save(lab, result()) is None
    out, err = capsys.readouterr()
    assert json.loads(between_markers(out, "result JSON")) == result()
    assert "cannot write" in err and "on stdout" in err


def test_a_save_writes_the_file(tmp_path):
    lab = Lab(gateway="http://g", backend="http://b", results=tmp_path)
    path = results.save(lab, result())
    assert path.name == "20250102T030405-article-asgi.json"
    assert json.loads(path.read_text()) == result()


def test_an_unsaved_result_exits_2_after_printing_it(tmp_path, monkeypatch, capsys):
    async def run(lab, **kw):
        return result()

    monkeypatch.setattr(article, "run", run)
    monkeypatch.setattr(ORDER["article"], "table", lambda result: "the table")
    # The folder passes the preflight, then the write fails (at the rename into place).
    monkeypatch.setattr(results.os, "replace", lambda *a: (_ for _ in ()).throw(PermissionError(13, "denied")))
    assert cli.main(["article", "--results", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert "the table" in out and json.loads(between_markers(out, "result JSON")) == result()
    assert "denied" in err
    # The temporary file the result was written to first is gone with the failure.
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_report_goes_to_stdout(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(results.os, "replace", lambda *a: (_ for _ in ()).throw(OSError(28, "no space")))
    assert cli.main(["report", "--results", str(tmp_path)]) == 2
    out, err = capsys.readouterr()
    assert between_markers(out, "report").startswith("# asynclab report")
    assert "no space" in err


def test_every_experiment_run_parameter_has_its_flag():
    parser = build_parser()
    for name, experiment in EXPERIMENTS.items():
        if name == "run":  # its command builds a Plan from its flags itself
            continue
        args = parser.parse_args([name])
        without = {"article": ("allow_errors",), "resources": ("memory_counts",)}.get(name, ())
        assert arguments(args, experiment.run, without)  # raises TypeError naming a parameter without a flag


def test_a_run_parameter_without_a_flag_is_an_error_not_a_silent_default():
    async def run(lab, levels=(1,), forgotten=3):
        return None

    with pytest.raises(TypeError, match="no flag for forgotten"):
        arguments(argparse.Namespace(levels=(5,)), run)
