from django.urls import path

from asynclab import health
from backend import views

urlpatterns = [
    path("api/", views.sync_api),
    path("api/async/", views.async_api),
    path("api/db/", views.sync_db),
    path("api/db/async/", views.async_db),
    path("api/db/adapter/", views.adapter_db),
    path("database", views.database_stats),
    path("healthz", health.healthz),
    path("telemetry", health.telemetry),
]

handler400 = "asynclab.http.bad_request"
handler404 = "asynclab.http.not_found"
handler500 = "asynclab.http.server_error"
