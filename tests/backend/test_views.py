"""The backend's views through Django's test Client and AsyncClient, as the article tests."""

from django.test import SimpleTestCase, override_settings


class SyncApiTests(SimpleTestCase):
    def test_answers_hello_world_and_echoes_the_task_id(self):
        response = self.client.get("/api/", {"task_id": "7", "delay": "0"})
        self.assertEqual(response.status_code, 200)
        data = response.json()
        self.assertEqual((data["message"], data["task_id"]), ("Hello World!", "7"))

    def test_leaves_out_task_id_when_not_given(self):
        self.assertNotIn("task_id", self.client.get("/api/", {"delay": "0"}).json())

    def test_sleeps_for_the_delay(self):
        data = self.client.get("/api/", {"delay": "0.2"}).json()
        self.assertGreaterEqual(data["elapsed"], 0.2)

    @override_settings(BACKEND_DELAY=0.15)
    def test_sleeps_for_backend_delay_when_no_delay_is_given(self):
        self.assertGreaterEqual(self.client.get("/api/").json()["elapsed"], 0.15)


class AsyncApiTests(SimpleTestCase):
    async def test_answers_hello_async_world(self):
        response = await self.async_client.get("/api/async/", {"task_id": "3", "delay": "0"})
        self.assertEqual(response.status_code, 200)
        data = response.json()
        self.assertEqual((data["message"], data["task_id"]), ("Hello Async World!", "3"))

    async def test_sleeps_for_the_delay(self):
        data = (await self.async_client.get("/api/async/", {"delay": "0.2"})).json()
        self.assertGreaterEqual(data["elapsed"], 0.2)

    async def test_sync_view_works_from_the_async_client_too(self):
        response = await self.async_client.get("/api/", {"delay": "0"})
        self.assertEqual(response.json()["message"], "Hello World!")


class HealthTests(SimpleTestCase):
    def test_reports_service_mode_and_a_wsgi_interface(self):
        data = self.client.get("/healthz").json()
        self.assertEqual((data["status"], data["service"], data["interface"]), ("ok", "backend", "wsgi"))
        self.assertIn(data["server_mode"], ("wsgi", "asgi", "runserver"))

    async def test_reports_an_asgi_interface_under_the_async_client(self):
        data = (await self.async_client.get("/healthz")).json()
        self.assertEqual(data["interface"], "asgi")
