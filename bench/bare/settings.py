"""As little as Django runs with: what is left is Django's own per-request path."""

import secrets

SECRET_KEY = secrets.token_urlsafe(50)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict = {}
ROOT_URLCONF = "bench.bare.urls"
USE_TZ = True
TIME_ZONE = "UTC"
