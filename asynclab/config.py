"""Reading knobs from the environment: one helper that casts, defaults and fails loudly.

Every knob of the lab is an environment variable (compose passes them through from the
shell or `.env`). A typo must stop a service at start with a message naming the variable,
not turn into a silent default halfway through a benchmark. The knobs themselves (default,
range, meaning) are declared once, in asynclab/knobs/, which reads them through here.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(RuntimeError):
    """A knob is set to a value the lab cannot use."""


def boolean(text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError("expected one of 1/0, true/false, yes/no, on/off")


def number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value


def integer(text: str) -> int:
    return int(text.strip())


def env(
    name: str,
    default: T,
    cast: Callable[[str], T] | None = None,
    *,
    choices: Iterable[T] | None = None,
    low: float | None = None,
    high: float | None = None,
    environ: Mapping[str, str] | None = None,
) -> T:
    """The value of environment variable `name`, cast like `default` and range-checked.

    An unset or empty variable gives `default`; anything else must cast and lie within
    `low`..`high` (inclusive) and `choices`, or ConfigError names the variable.
    """
    environ = os.environ if environ is None else environ
    raw = environ.get(name, "")
    if raw.strip() == "":
        return default
    cast = cast or _cast_for(default)
    try:
        value = cast(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r}: {exc}") from None
    if choices is not None:
        allowed = sorted(choices)  # type: ignore[type-var]
        if value not in allowed:
            raise ConfigError(f"{name}={raw!r}: choose one of {', '.join(map(str, allowed))}")
    if low is not None and value < low:  # type: ignore[operator]
        raise ConfigError(f"{name}={raw!r}: must be at least {low}")
    if high is not None and value > high:  # type: ignore[operator]
        raise ConfigError(f"{name}={raw!r}: must be at most {high}")
    return value


def service_env(service: str, name: str, default: T, **kwargs: Any) -> T:
    """`<SERVICE>_<NAME>` if set, else `<NAME>`: one knob for the stack, one per service.

    So `SERVER_MODE=asgi` switches both services while `BACKEND_SERVER_MODE=wsgi` pins one.
    """
    specific = f"{service.upper()}_{name}"
    environ = kwargs.get("environ")
    environ = os.environ if environ is None else environ
    if environ.get(specific, "").strip():
        return env(specific, default, **kwargs)
    return env(name, default, **kwargs)


def _cast_for(default: Any) -> Callable[[str], Any]:
    if isinstance(default, bool):
        return boolean
    if isinstance(default, int):
        return integer
    if isinstance(default, float):
        return number
    return str
