"""The backend: the six views the gateway and loadgen call (backend/views.py). The
article's slow API view, sync (time.sleep) and async (asyncio.sleep); the same wait spent
in a database, by a sync view, an async view and the sync_to_async adapter; and GET
/database, what the database side looks like. Their paths are asynclab/api.py's
BACKEND_VIEWS (and /database); /healthz and /telemetry are asynclab/status.py's."""
