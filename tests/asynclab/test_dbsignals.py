import pytest

from asynclab import dbsignals


def test_detaching_is_refused_when_there_is_a_database():
    # The receivers close stale connections: only a service without a database may drop them.
    with pytest.raises(ValueError, match="DB_SIGNALS=off needs DATABASES to be empty"):
        dbsignals.apply("off", {"default": {"ENGINE": "django.db.backends.sqlite3"}})


def test_auto_keeps_them_with_a_database():
    assert dbsignals.apply("auto", {"default": {"ENGINE": "django.db.backends.sqlite3"}}) == "on"


def test_djangos_dummy_engine_is_no_database():
    # Django fills an empty DATABASES in with its dummy engine once connections are used.
    assert not dbsignals.has_database({})
    assert not dbsignals.has_database({"default": {"ENGINE": "django.db.backends.dummy"}})
    assert dbsignals.has_database({"default": {"ENGINE": "django.db.backends.sqlite3"}})
