import pytest

from loadgen.cli import build_parser


def parse(argv, monkeypatch, **env):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return build_parser().parse_args(argv)


def test_every_flag_has_an_environment_twin(monkeypatch):
    args = parse(["run"], monkeypatch, LOADGEN_CONCURRENCY="5", LOADGEN_DURATION="2m", LOADGEN_RATE="50",
                 LOADGEN_URLS="http://a/ http://b/", LOADGEN_FAIL_IF="p99<2s;errors==0", LOADGEN_NO_DRAIN="yes",
                 LOADGEN_TIMEOUT="90s")
    assert (args.concurrency, args.duration, args.rate, args.no_drain, args.timeout) == (5, 120.0, 50.0, True, 90.0)
    assert [t.text for t in args.fail_if] == ["p99<2s", "errors==0"]


def test_a_flag_beats_its_twin(monkeypatch):
    assert parse(["run", "-c", "7"], monkeypatch, LOADGEN_CONCURRENCY="5").concurrency == 7


def test_help_names_the_twins():
    text = build_parser()._subparsers._group_actions[0].choices["run"].format_help()
    for env in ("LOADGEN_CONCURRENCY", "LOADGEN_RATE", "LOADGEN_WARMUP", "LOADGEN_TIMEOUT", "LOADGEN_FAIL_IF"):
        assert env in text


@pytest.mark.parametrize(("env", "value"), [("LOADGEN_CONCURRENCY", "0"), ("LOADGEN_DURATION", "soon"),
                                            ("LOADGEN_FAIL_IF", "p99")])
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
