"""The PostgreSQL backend checks a reused connection at most once a second, and
still replaces one that died."""

import psycopg
import pytest
from django.db import connection

from commerce_core.databases.postgresql import base

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's backend"),
]


@pytest.fixture
def reused_connection(monkeypatch):
    """This thread's connection as the services keep it: persistent, health-checked."""
    connection.close()
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    monkeypatch.setitem(connection.settings_dict, "CONN_HEALTH_CHECKS", True)
    connection.ensure_connection()
    checks = []
    real_is_usable = connection.is_usable
    monkeypatch.setattr(connection, "is_usable", lambda: checks.append(1) or real_is_usable())
    yield checks
    connection.close()


def unit_of_work() -> int:
    """What a request or a worker's batch does: start, then query; the backend's pid."""
    connection.close_if_unusable_or_obsolete()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_a_connection_checked_moments_ago_is_not_checked_again(reused_connection):
    for _ in range(10):
        unit_of_work()
    assert reused_connection == []


def test_a_connection_is_checked_again_once_the_interval_passed(reused_connection, monkeypatch):
    monkeypatch.setattr(base, "CHECK_INTERVAL_SECONDS", 0.0)
    for _ in range(3):
        unit_of_work()
    assert len(reused_connection) == 3


def test_a_connection_that_died_is_replaced_at_its_next_check(reused_connection, monkeypatch):
    monkeypatch.setattr(base, "CHECK_INTERVAL_SECONDS", 0.0)
    dead = unit_of_work()
    params = connection.get_connection_params()
    with psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"}, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [dead])
    assert unit_of_work() != dead
