import pytest

from asynclab import signals


def test_detaching_is_refused_when_there_is_a_database():
    # The receivers close stale connections: only a service without a database may drop them.
    with pytest.raises(ValueError, match="DB_SIGNALS=off needs DATABASES to be empty"):
        signals.apply("off", {"default": {"ENGINE": "django.db.backends.sqlite3"}})


def test_auto_keeps_them_with_a_database():
    assert signals.apply("auto", {"default": {"ENGINE": "django.db.backends.sqlite3"}}) == "on"
