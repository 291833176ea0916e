"""JSON responses and errors shared by both services.

Every answer of the lab is JSON, errors included, so that a load generator (or curl) never
has to guess what an HTML error page meant.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, JsonResponse


class ApiResponse(JsonResponse):
    """A JsonResponse that keeps its dict, so middleware can add fields without re-parsing."""

    def __init__(self, data: dict[str, Any], status: int = 200, **kwargs: Any) -> None:
        super().__init__(data, status=status, **kwargs)
        self.data = data
        # Set by a view for the middleware: extra Server-Timing metrics (seconds) and
        # extra fields for the access line.
        self.timings: dict[str, float | None] = {}
        self.log_fields: dict[str, Any] = {}

    def update(self, **fields: Any) -> None:
        self.data.update(fields)
        self.content = json.dumps(self.data, cls=DjangoJSONEncoder)


def json_error(status: int, error: str, message: str, **fields: Any) -> ApiResponse:
    return ApiResponse({"error": error, "message": message, **fields}, status=status)


# Django's handler400/404/500 hooks: the same JSON shape as every other error.
def bad_request(request: HttpRequest, exception: Exception | None = None) -> ApiResponse:
    return json_error(400, "bad_request", "the request could not be understood")


def not_found(request: HttpRequest, exception: Exception | None = None) -> ApiResponse:
    return json_error(404, "not_found", f"no endpoint at {request.path}")


def server_error(request: HttpRequest) -> ApiResponse:
    return json_error(500, "server_error", "the server failed to handle the request")
