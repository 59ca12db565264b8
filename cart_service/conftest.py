"""Fixtures every app of the cart service tests with."""

import pytest


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SQLite, test against a database file, as the service runs, rather than Django's
    in-memory default: its shared cache fails concurrent writers at once ("table is
    locked") where a file makes them wait, so the tests of concurrent checkouts could
    not run. PostgreSQL needs nothing."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "test_cart.sqlite3")
