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


def test_an_empty_environ_is_used_as_given_not_replaced_by_the_process_one(monkeypatch):
    monkeypatch.setenv("GATEWAY_SERVER_MODE", "asgi")
    assert service_env("gateway", "SERVER_MODE", "x", environ={}) == "x"


def test_the_registry_reads_through_env_with_the_declared_default_range_and_choices():
    from asynclab.knobs import read

    assert read("WORKERS", "backend", environ={}) == 1
    assert read("WORKERS", "backend", environ={"WORKERS": "2", "BACKEND_WORKERS": "3"}) == 3
    assert read("WORKERS", "gateway", environ={"WORKERS": "2", "BACKEND_WORKERS": "3"}) == 2
    assert read("LOG_LEVEL", environ={"LOG_LEVEL": "debug"}) == "DEBUG"
    assert read("BACKEND_URL", environ={"BACKEND_URL": "http://b:1/"}) == "http://b:1"
    for name, raw, fragment in [
        ("WORKERS", "65", "must be at most 64"),
        ("DB", "mysql", "choose one of"),
        ("BACKEND_URL", "ftp://b", "expected a base URL"),
        ("DJANGO_DEBUG", "maybe", "true/false"),
        ("DB_POOL_MIN_SIZE", "11", "must be at most 10"),
    ]:
        with pytest.raises(ConfigError) as caught:
            read(name, "backend" if name == "WORKERS" else None, environ={name: raw})
        assert str(caught.value).startswith(f"{name}={raw!r}") and fragment in str(caught.value)


def test_a_per_service_knob_needs_its_service_and_an_unknown_knob_is_refused():
    from asynclab.knobs import declared, read

    with pytest.raises(ValueError, match="per service"):
        read("WORKERS", environ={})
    with pytest.raises(KeyError):
        read("WORKRES", environ={})
    assert declared("GATEWAY_THREADS").name == "THREADS"
