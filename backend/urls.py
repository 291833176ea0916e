from django.urls import path

from asynclab import api, status, streams
from backend import cpu as cpu_views
from backend import streams as stream_views
from backend import views


def _at(view: str) -> str:
    """The route of backend view `view`: its path in asynclab/api.py, without the leading /."""
    return api.BACKEND_VIEWS[view].removeprefix("/")


urlpatterns = [
    path(_at("sync"), views.sync_api),
    path(_at("async"), views.async_api),
    path(_at("db"), views.sync_db),
    path(_at("db-async"), views.async_db),
    path(_at("db-adapter"), views.adapter_db),
    path(api.BACKEND_CPU.removeprefix("/"), cpu_views.cpu),
    path(api.BACKEND_STREAMS["async"].removeprefix("/"), stream_views.async_stream),
    path(api.BACKEND_STREAMS["sync"].removeprefix("/"), stream_views.sync_stream),
    path("database", views.database_stats),
    path("healthz", status.healthz),
    path("telemetry", status.telemetry),
    path(api.STREAMS_GAUGE.removeprefix("/"), streams.gauge),
]

handler400 = "asynclab.http.bad_request"
handler404 = "asynclab.http.not_found"
handler500 = "asynclab.http.server_error"
