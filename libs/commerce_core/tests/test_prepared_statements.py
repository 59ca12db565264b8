"""On PostgreSQL, parameters travel apart from the statement, and a statement a
connection runs again is prepared: the server parses and plans it once."""

import pytest
from django.db import connection

from commerce_core.events.models import InboxMessage
from commerce_core.settings.base import build_databases


def postgres_options(monkeypatch, **environ) -> dict:
    monkeypatch.setenv("DATABASE_URL", "postgres://commerce@db.internal:5432/commerce_{service}")
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return build_databases("cart")["default"]["OPTIONS"]


def test_postgresql_binds_parameters_on_the_server_and_prepares_a_statement_run_twice(monkeypatch):
    assert postgres_options(monkeypatch) == {"server_side_binding": True, "prepare_threshold": 2}


def test_a_negative_threshold_never_prepares_for_poolers_that_cannot_keep_prepared_statements(monkeypatch):
    assert postgres_options(monkeypatch, DATABASE_PREPARE_THRESHOLD="-1")["prepare_threshold"] is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
def test_a_query_run_again_on_a_connection_is_prepared_on_the_server():
    def prepared() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements")
            return [row[0] for row in cursor.fetchall()]

    for handler in ("first", "second", "third"):
        list(InboxMessage.objects.filter(handler=handler))

    assert [s for s in prepared() if "events_inboxmessage" in s], prepared()
