from django.urls import path, re_path

from asynclab import api, status, streams
from asynclab import chat as chat_api
from backend import chat, views
from backend import cpu as cpu_views
from backend import streams as stream_views


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
    path(api.CHAT_GAUGE.removeprefix("/"), chat.gauge),
    # WebSocket paths over plain HTTP, and every upgrade under WSGI: a JSON answer saying why.
    re_path("^" + chat_api.PATH.removeprefix("/").split("/")[0] + "/", chat.refused),
]

handler400 = "asynclab.http.bad_request"
handler404 = "asynclab.http.not_found"
handler500 = "asynclab.http.server_error"
