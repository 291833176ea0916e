"""In-process Django for the backend's view and middleware tests (the article's way)."""

import atexit
import os
import tempfile
from pathlib import Path

import django
import pytest
from django.core.management import call_command
from django.test import Client
from django.test.utils import setup_test_environment

from asynclab.warmup import warm

os.environ["DJANGO_SETTINGS_MODULE"] = "backend.settings"
# The backend's SQLite database for in-process tests: a fresh file, migrated and seeded
# the way the server does it at start.
_folder = tempfile.TemporaryDirectory(prefix="asynclab-test-db-")
atexit.register(_folder.cleanup)
os.environ["DB"] = "sqlite"
os.environ["DB_PATH"] = str(Path(_folder.name) / "db.sqlite3")
django.setup()
setup_test_environment()
call_command("migrate", interactive=False, verbosity=0)
# What the servers' entry modules do in every worker; /healthz answers ok only after it.
warm(None)


@pytest.fixture
def client():
    return Client()
