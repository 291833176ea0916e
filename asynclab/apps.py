from django.apps import AppConfig
from django.conf import settings


class LabConfig(AppConfig):
    """Per-process set-up of both services, run once Django is ready in each worker."""

    name = "asynclab"

    def ready(self) -> None:
        from . import dbsignals, telemetry

        dbsignals.apply(settings.DB_SIGNALS, settings.DATABASES)
        # Start the sampler now, so a worker that has served nothing still reports.
        telemetry.worker()
