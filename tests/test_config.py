import pytest

from asynclab.config import ConfigError, env, service_env


def test_unset_or_blank_gives_the_default():
    assert env("X", 1.5, environ={}) == 1.5
    assert env("X", 1.5, environ={"X": "  "}) == 1.5


@pytest.mark.parametrize(
    ("default", "raw", "expected"),
    [(1, "4", 4), (1.0, "0.25", 0.25), (False, "yes", True), (True, "off", False), ("a", "b", "b")],
)
def test_values_are_cast_like_the_default(default, raw, expected):
    assert env("X", default, environ={"X": raw}) == expected


@pytest.mark.parametrize(
    ("default", "raw", "kwargs", "fragment"),
    [
        (1, "four", {}, "invalid literal"),
        (1.0, "nan", {}, "finite"),
        (False, "maybe", {}, "true/false"),
        (1, "0", {"low": 1}, "at least 1"),
        (1.0, "31", {"high": 30}, "at most 30"),
        ("wsgi", "cgi", {"choices": ("wsgi", "asgi")}, "choose one of asgi, wsgi"),
    ],
)
def test_bad_values_fail_loudly_naming_the_variable(default, raw, kwargs, fragment):
    with pytest.raises(ConfigError) as caught:
        env("KNOB", default, environ={"KNOB": raw}, **kwargs)
    assert str(caught.value).startswith(f"KNOB={raw!r}")
    assert fragment in str(caught.value)


def test_a_service_specific_knob_wins_over_the_shared_one():
    environ = {"SERVER_MODE": "wsgi", "BACKEND_SERVER_MODE": "asgi"}
    assert service_env("backend", "SERVER_MODE", "x", environ=environ) == "asgi"
    assert service_env("gateway", "SERVER_MODE", "x", environ=environ) == "wsgi"
    assert service_env("gateway", "SERVER_MODE", "x", environ={"GATEWAY_SERVER_MODE": ""}) == "x"
