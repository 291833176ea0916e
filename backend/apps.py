from django.apps import AppConfig


class BackendConfig(AppConfig):
    """The backend's one model (backend/models.py) and its database set-up."""

    name = "backend"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from . import database

        connection_created.connect(database.connection_created, dispatch_uid="asynclab-connection")
