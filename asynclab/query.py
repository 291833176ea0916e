"""Query-string parsing with limits, and the decorator that turns a view into a GET endpoint.

Every knob a client can turn through the query string is parsed here, with a range, so that
bad input becomes a 400 naming the parameter instead of a 500 or a worker stuck on a
thousand-second sleep. The grammar is strict on purpose (docs/edge.md): a typo'd or
repeated name, an empty value or an odd spelling of a number would otherwise measure
something the client did not ask for, without telling it.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict

from .compat import iscoroutinefunction, markcoroutinefunction
from .grammar import BOOLEANS, DECIMAL, INTEGER, written
from .http import json_error

P = TypeVar("P")

TOKEN = re.compile(r"[A-Za-z0-9._-]{1,64}")


class BadParameter(ValueError):
    def __init__(self, name: str, message: str, error: str = "bad_parameter", **fields: Any) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message
        self.error = error
        self.fields = fields


class Query:
    """Typed, bounded access to a request's query string, in one strict grammar.

    Each name may appear once; every name must be one the endpoint's parser reads (the
    names it asks for are its parameters); an empty value is an error, not the default.
    """

    def __init__(self, params: MultiValueDict | Mapping[str, str]) -> None:
        # request.GET is a QueryDict, a MultiValueDict that keeps every value of a name.
        pairs = (
            params.lists()
            if isinstance(params, MultiValueDict)
            else ((name, [value]) for name, value in params.items())
        )
        self.params: dict[str, str] = {}
        for name, values in pairs:
            if len(values) > 1:
                raise BadParameter(name, f"is given {len(values)} times; give it once", "repeated_parameter")
            self.params[name] = values[0]
        self.names: list[str] = []  # the parameters asked for, in order

    def _raw(self, name: str) -> str | None:
        if name not in self.names:
            self.names.append(name)
        value = self.params.get(name)
        if value == "":
            raise BadParameter(name, "is empty: give a value, or leave the parameter out for its default")
        return value

    def check_unknown(self) -> None:
        """After parsing: any name the parser never asked for is a typo or a wrong endpoint."""
        unknown = [name for name in self.params if name not in self.names]
        if unknown:
            takes = f"takes {', '.join(self.names)}" if self.names else "takes no parameters"
            raise BadParameter(
                unknown[0],
                f"is not a parameter here; this endpoint {takes}",
                "unknown_parameter",
                parameters=self.names,
            )

    def number(self, name: str, default: float | None, low: float, high: float) -> float | None:
        raw = self._raw(name)
        if raw is None:
            return default
        value = float(raw) if DECIMAL.fullmatch(raw) else math.nan
        if not math.isfinite(value) or not low <= value <= high:
            raise BadParameter(
                name,
                f"must be a number from {written(low)} to {written(high)}, in digits with at most one '.' (like 0.25)",
            )
        return value

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        raw = self._raw(name)
        if raw is None:
            return default
        if not INTEGER.fullmatch(raw) or not low <= int(raw) <= high:
            raise BadParameter(name, f"must be a whole number from {low} to {high}, in digits")
        return int(raw)

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
        if raw not in BOOLEANS:
            raise BadParameter(name, "must be true or false")
        return BOOLEANS[raw]

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
                query = Query(request.GET)
                params = parse(query)
                query.check_unknown()
            except BadParameter as exc:
                return None, json_error(400, exc.error, exc.message, parameter=exc.name, **exc.fields)
            return params, None

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
