from django.urls import path

from asynclab import api, status, streams
from gateway import stream, views


def _at(strategy: str) -> str:
    """The route of `strategy`'s view: its path in asynclab/api.py, without the leading /."""
    return api.STRATEGIES[strategy].removeprefix("/")


urlpatterns = [
    path(_at("gather"), views.async_aggregated),
    path(_at("sequential"), views.sync_aggregated),
    path(_at("threadpool"), views.threadpool_aggregated),
    path(_at("async-to-sync"), views.async_to_sync_aggregated),
    path(api.GATEWAY_STREAM.removeprefix("/"), stream.aggregated_stream),
    path("healthz", status.healthz),
    path("telemetry", status.telemetry),
    path(api.STREAMS_GAUGE.removeprefix("/"), streams.gauge),
]

handler400 = "asynclab.http.bad_request"
handler404 = "asynclab.http.not_found"
handler500 = "asynclab.http.server_error"
