"""The backend's views refuse bad input, unknown paths and other methods in JSON
(pytest style; the in-process Client tests are in test_views.py)."""

import pytest


@pytest.mark.parametrize("path", ["/api/", "/api/async/"])
@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"delay": "abc"}, "delay"),
        ({"delay": "-1"}, "delay"),
        ({"delay": "30.5"}, "delay"),
        ({"delay": "nan"}, "delay"),
        ({"delay": "1e999"}, "delay"),
        ({"task_id": "x" * 65}, "task_id"),
        ({"task_id": "<b>"}, "task_id"),
    ],
)
def test_bad_input_is_a_400_naming_the_parameter(client, path, query, parameter):
    response = client.get(path, query)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert (body["error"], body["parameter"]) == ("bad_parameter", parameter)
    assert body["message"]


def test_unknown_paths_are_json_404s(client):
    response = client.get("/api/nope/")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_other_methods_are_json_405s(client, method):
    response = getattr(client, method)("/api/")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json()["error"] == "method_not_allowed"
