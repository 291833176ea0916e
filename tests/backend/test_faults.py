"""Fault injection on the backend: exact shares by task_id, and each fault's answer."""

from django.test import SimpleTestCase

from backend.faults import Faults

NONE = dict.fromkeys(("drop", "hang", "fail", "invalid"), 0.0)


class FaultAnswers(SimpleTestCase):
    def test_fail_is_a_503_json_error(self):
        response = self.client.get("/api/", {"task_id": "0", "fail": "1", "delay": "0"})
        self.assertEqual((response.status_code, response.json()["error"]), (503, "injected_failure"))

    async def test_invalid_is_a_200_that_is_not_json(self):
        response = await self.async_client.get("/api/async/", {"task_id": "0", "invalid": "1", "delay": "0"})
        self.assertEqual(response.status_code, 200)
        with self.assertRaises(ValueError):
            response.json()

    def test_jitter_adds_up_to_its_bound(self):
        # The bound is a property of the drawn waits, not of how fast this machine serves.
        jittery = Faults(NONE, jitter=0.05)
        waits = [jittery.extra_delay() for _ in range(1000)]
        self.assertTrue(0 <= min(waits) < max(waits) <= 0.05)
        response = self.client.get("/api/", {"jitter": "0.05", "delay": "0"})
        self.assertEqual(response.status_code, 200)

    def test_bad_fault_values_are_400s(self):
        for name, value in (("fail", "1.5"), ("hang", "-0.1"), ("drop", "x"), ("jitter", "31")):
            response = self.client.get("/api/", {name: value})
            self.assertEqual((response.status_code, response.json()["parameter"]), (400, name))
