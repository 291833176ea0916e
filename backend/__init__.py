"""The backend: slow API views, one sync (time.sleep) and one async (asyncio.sleep)."""
