"""Query-string parsing with limits, and the decorator that turns a view into a GET endpoint.

Every knob a client can turn through the query string is parsed here, with a range, so that
bad input becomes a 400 naming the parameter instead of a 500 or a worker stuck on a
thousand-second sleep.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest

from .config import boolean
from .http import json_error

P = TypeVar("P")

TOKEN = re.compile(r"[A-Za-z0-9._-]{1,64}")


class BadParameter(ValueError):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


class Query:
    """Typed, bounded access to a request's query string."""

    def __init__(self, params: Mapping[str, str]) -> None:
        self.params = params

    def _raw(self, name: str) -> str | None:
        value = self.params.get(name)
        return None if value is None or value.strip() == "" else value

    def number(self, name: str, default: float | None, low: float, high: float) -> float | None:
        raw = self._raw(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or not low <= value <= high:
            raise BadParameter(name, f"must be a number from {low:g} to {high:g}")
        return value

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        raw = self._raw(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise BadParameter(name, f"must be a whole number from {low} to {high}") from None
        if not low <= value <= high:
            raise BadParameter(name, f"must be a whole number from {low} to {high}")
        return value

    def choice(self, name: str, default: str, choices: Mapping[str, Any] | tuple[str, ...]) -> str:
        raw = self._raw(name)
        if raw is None:
            return default
        if raw not in choices:
            raise BadParameter(name, f"must be one of {', '.join(choices)}")
        return raw

    def boolean(self, name: str, default: bool) -> bool:
        raw = self._raw(name)
        if raw is None:
            return default
        try:
            return boolean(raw)  # the same words as every boolean knob
        except ValueError:
            raise BadParameter(name, "must be true or false (1/0, yes/no, on/off)") from None

    def token(self, name: str) -> str | None:
        raw = self._raw(name)
        if raw is None:
            return None
        if not TOKEN.fullmatch(raw):
            raise BadParameter(name, "must be 1 to 64 characters of A-Z a-z 0-9 . _ -")
        return raw


def endpoint(parse: Callable[[Query], P]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Make a view a GET-only JSON endpoint that receives its parsed query as `params`.

    Works on sync and async views alike and keeps their kind, so Django adapts nothing.
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        def prepare(request: HttpRequest) -> tuple[Any, Any]:
            if request.method not in ("GET", "HEAD"):
                response = json_error(405, "method_not_allowed", f"{request.method} is not allowed; use GET")
                response["Allow"] = "GET, HEAD"
                return None, response
            try:
                return parse(Query(request.GET)), None
            except BadParameter as exc:
                return None, json_error(400, "bad_parameter", exc.message, parameter=exc.name)

        if iscoroutinefunction(view):

            async def async_view(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                params, error = prepare(request)
                return error or await view(request, params, *args, **kwargs)

            return markcoroutinefunction(functools.wraps(view)(async_view))

        @functools.wraps(view)
        def sync_view(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            params, error = prepare(request)
            return error or view(request, params, *args, **kwargs)

        return sync_view

    return decorate
