"""The /api/db/ endpoints against SQLite: Django's test Client and AsyncClient in process,
then live wsgi and asgi servers over real sockets (where the connection lifetimes differ)."""

import threading
import time

from django.db import connection
from django.test import SimpleTestCase

from backend.models import Item, Sleep
from tests.backend.rows import ENDPOINTS, check_rows


class SyncClientTests(SimpleTestCase):
    databases = {"default"}

    def test_each_endpoint_returns_seeded_rows(self):
        for view, path in ENDPOINTS.items():
            with self.subTest(view=view):
                response = self.client.get(path, {"delay": "0", "rows": "3", "task_id": "4"})
                self.assertEqual(response.status_code, 200)
                check_rows(response.json(), view, 3)
                self.assertEqual(response.json()["task_id"], "4")

    def test_the_delay_is_spent_in_the_database(self):
        for view, path in ENDPOINTS.items():
            with self.subTest(view=view):
                data = self.client.get(path, {"delay": "0.2", "rows": "1"}).json()
                self.assertGreaterEqual(data["db_elapsed"], 0.2)
                self.assertIn("db;dur=", self.client.get(path, {"delay": "0"})["Server-Timing"])

    def test_thread_sensitive_runs_on_the_requests_own_thread_and_false_does_not(self):
        same = self.client.get("/api/db/adapter/", {"delay": "0", "thread_sensitive": "true"}).json()
        other = self.client.get("/api/db/adapter/", {"delay": "0", "thread_sensitive": "false"}).json()
        # Under the sync test client, the request's own thread is this one.
        self.assertEqual(same["thread"], same["request_thread"])
        self.assertEqual(same["thread"], threading.current_thread().name)
        self.assertNotEqual(other["thread"], other["request_thread"])
        self.assertEqual((same["thread_sensitive"], other["thread_sensitive"]), (True, False))


class AsyncClientTests(SimpleTestCase):
    databases = {"default"}

    async def test_each_endpoint_returns_seeded_rows(self):
        for view, path in ENDPOINTS.items():
            response = await self.async_client.get(path, {"delay": "0", "rows": "5"})
            self.assertEqual(response.status_code, 200, view)
            check_rows(response.json(), view, 5)

    async def test_thread_identity_follows_thread_sensitive(self):
        same = (await self.async_client.get("/api/db/adapter/", {"delay": "0"})).json()
        other = (await self.async_client.get("/api/db/adapter/", {"delay": "0", "thread_sensitive": "false"})).json()
        self.assertEqual(same["thread"], same["request_thread"])
        self.assertNotEqual(other["thread"], other["request_thread"])


class SleepTests(SimpleTestCase):
    databases = {"default"}

    def test_sleep_is_a_bound_parameter_not_sql_text(self):
        query = Item.objects.annotate(slept=Sleep(0.25)).filter(pk=1).query
        sql, params = query.sql_with_params()
        self.assertIn("asynclab_sleep(%s)", sql)
        self.assertIn(0.25, params)
        self.assertNotIn("0.25", sql)

    def test_sleep_blocks_inside_the_statement(self):
        start = time.perf_counter()
        self.assertEqual(Item.objects.annotate(slept=Sleep(0.15)).values_list("slept", flat=True).get(pk=1), 1)
        self.assertGreaterEqual(time.perf_counter() - start, 0.15)
        self.assertEqual(connection.vendor, "sqlite")
