"""What the database endpoints' tests share: their paths by view, and the seeded rows' check."""

from asynclab.api import BACKEND_VIEWS
from backend.database import SEED_ROWS

ENDPOINTS = {"sync": BACKEND_VIEWS["db"], "async": BACKEND_VIEWS["db-async"], "adapter": BACKEND_VIEWS["db-adapter"]}


def check_rows(data, view, rows):
    assert data["view"] == view
    assert data["engine"] == "sqlite"
    assert data["count"] == SEED_ROWS
    assert [item["id"] for item in data["items"]] == list(range(1, rows + 1))
    assert data["items"][0] == {"id": 1, "name": "item-001", "price_cents": 107}
    assert data["slept"] == 1
