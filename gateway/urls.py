from django.urls import path

from asynclab import health
from gateway import views

urlpatterns = [
    path("api/aggregated/", views.async_aggregated),
    path("api/aggregated/sync/", views.sync_aggregated),
    path("api/aggregated/threadpool/", views.threadpool_aggregated),
    path("api/aggregated/async-to-sync/", views.async_to_sync_aggregated),
    path("healthz", health.healthz),
    path("telemetry", health.telemetry),
]

handler400 = "asynclab.http.bad_request"
handler404 = "asynclab.http.not_found"
handler500 = "asynclab.http.server_error"
