"""In-process Django for the backend's view and middleware tests (the article's way)."""

import os

import django
from django.test.utils import setup_test_environment

os.environ["DJANGO_SETTINGS_MODULE"] = "backend.settings"
django.setup()
setup_test_environment()
