"""The lab's middleware in-process, through the backend's views: what it adds (timing,
request id, one access line, in-flight counts) and what the edge refuses. That Django
never adapts it is in test_middleware_chain.py."""

import logging

from django.test import SimpleTestCase

from asynclab import telemetry


class AccessLines(logging.Handler):
    """Collects the access lines the middleware writes (asynclab.access does not propagate)."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.access)

    def __enter__(self):
        logging.getLogger("asynclab.access").addHandler(self)
        return self.lines

    def __exit__(self, *exc):
        logging.getLogger("asynclab.access").removeHandler(self)


class TimingTests(SimpleTestCase):
    def check(self, response, at_least):
        self.assertRegex(response["Server-Timing"], r"^app;dur=\d+\.\d{3}$")
        self.assertEqual(response["Content-Length"], str(len(response.content)))
        elapsed = response.json()["elapsed"]
        self.assertGreaterEqual(elapsed, at_least)
        self.assertAlmostEqual(float(response["Server-Timing"].split("=")[1]) / 1000, elapsed, delta=0.002)

    def test_sync_view_sync_handler(self):
        self.check(self.client.get("/api/", {"delay": "0.05"}), 0.05)

    def test_async_view_sync_handler(self):
        self.check(self.client.get("/api/async/", {"delay": "0.05"}), 0.05)

    async def test_sync_view_async_handler(self):
        self.check(await self.async_client.get("/api/", {"delay": "0.05"}), 0.05)

    async def test_async_view_async_handler(self):
        self.check(await self.async_client.get("/api/async/", {"delay": "0.05"}), 0.05)

    def test_a_safe_client_id_is_echoed_and_logged_once(self):
        with AccessLines() as lines:
            response = self.client.get("/api/", {"delay": "0"}, headers={"X-Request-ID": "abc-123.4"})
        self.assertEqual(response["X-Request-ID"], "abc-123.4")
        [line] = lines
        self.assertEqual(
            (line["request_id"], line["client_id"], line["path"], line["status"]), ("abc-123.4", True, "/api/", 200)
        )

    async def test_an_unsafe_client_id_is_replaced(self):
        for unsafe in ("x" * 65, "a b", "id\u00e9", "<script>"):
            with AccessLines() as lines:
                response = await self.async_client.get("/api/async/", {"delay": "0"}, headers={"X-Request-ID": unsafe})
            self.assertRegex(response["X-Request-ID"], r"^[0-9a-f]{16}$")
            self.assertEqual(
                [(line["request_id"], line["client_id"]) for line in lines], [(response["X-Request-ID"], False)]
            )

    async def test_in_flight_is_counted_while_a_request_runs_and_returns_to_zero(self):
        worker = telemetry.worker()
        before, served = worker.in_flight, worker.requests
        await self.async_client.get("/api/async/", {"delay": "0.01"})
        self.assertEqual((worker.in_flight, worker.requests), (before, served + 1))
        await self.async_client.get("/healthz")
        self.assertEqual(worker.requests, served + 1, "health checks are not load")

    def test_an_oversized_target_is_a_414_json_error(self):
        response = self.client.get("/api/", {"task_id": "x" * 2100})
        self.assertEqual((response.status_code, response.json()["error"]), (414, "uri_too_long"))
        # Within the limit it is the view's turn (and its grammar's: pad= is no parameter).
        self.assertEqual(
            self.client.get("/api/", {"delay": "0", "pad": "x" * 1900}).json()["error"], "unknown_parameter"
        )

    async def test_oversized_headers_are_a_431_json_error(self):
        headers = {f"X-Pad-{i}": "y" * 1000 for i in range(9)}
        response = await self.async_client.get("/api/async/", {"delay": "0"}, headers=headers)
        self.assertEqual((response.status_code, response.json()["error"]), (431, "headers_too_large"))

    def test_too_many_header_fields_are_a_431_json_error(self):
        response = self.client.get("/api/", {"delay": "0"}, headers={f"X-H-{i}": "1" for i in range(70)})
        self.assertEqual((response.status_code, response.json()["error"]), (431, "headers_too_large"))
        self.assertIn("header fields", response.json()["message"])

    def test_a_host_not_allowed_is_a_400_json_error_before_the_view_runs(self):
        with AccessLines() as lines:
            response = self.client.get("/api/", {"delay": "5"}, headers={"host": "evil.example"})
        self.assertEqual((response.status_code, response.json()["error"]), (400, "disallowed_host"))
        self.assertLess(response.json()["elapsed"], 5, "the view's 5 s sleep did not run")
        self.assertEqual([line["status"] for line in lines], [400])

    async def test_a_host_not_allowed_is_refused_by_the_async_handler_too(self):
        response = await self.async_client.get("/api/async/", {"delay": "0"}, headers={"host": "attacker.test:8000"})
        self.assertEqual(response.status_code, 400)
        self.assertIn("attacker.test:8000", response.json()["host"])

    def test_error_responses_are_timed_too(self):
        response = self.client.get("/api/", {"delay": "x"})
        self.assertEqual(response.status_code, 400)
        self.assertIn("elapsed", response.json())
