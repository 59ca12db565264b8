"""Statements run on the database driver's own cursor: for the bus's statements that
run for every event or batch (the outbox's insert, the inbox's lookup and insert),
and the services' writes written once per shape (inserts.py, updates.py).

Django's cursor wrapper costs more than such a statement itself. On SQLite, the
inbox lookup of one event took 60 µs of CPU through `connection.cursor()` against
17 µs on the driver's cursor (most of the difference: the `%s` → `?` rewrite by a
regular expression at every execute, and the wrapper's checks and context
managers), an inbox insert 180 µs against 100.

Kept: the driver's errors become Django's (`wrap_database_errors`: a duplicate row
raises `django.db.IntegrityError`), a statement joins the connection's open
transaction, which Django began on the same driver connection, and the
connection's health check runs when due, and the statement goes into Django's
query log when the connection keeps one (`connection.queries`: with DEBUG, or under
a test's `CaptureQueriesContext`). Not kept: execute wrappers do not see these
statements.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence


def execute(database, sql: str, params: Sequence) -> int:
    """Run `sql`, written with `%s` placeholders as for Django's cursor (and no
    literal `%`), on the driver connection of `database`, a Django connection;
    returns the number of rows it changed."""
    cursor = _cursor(database)
    try:
        _run(database, cursor, sql, params)
        return cursor.rowcount
    finally:
        cursor.close()


def fetch_all(database, sql: str, params: Sequence) -> list[tuple]:
    """`execute`, then every row the statement returned."""
    cursor = _cursor(database)
    try:
        _run(database, cursor, sql, params)
        with database.wrap_database_errors:
            return cursor.fetchall()
    finally:
        cursor.close()


def _run(database, cursor, sql: str, params: Sequence) -> None:
    native = _native(database.vendor, sql)
    if not database.queries_logged:
        with database.wrap_database_errors:
            cursor.execute(native, params)
        return
    started = time.monotonic()
    try:
        with database.wrap_database_errors:
            cursor.execute(native, params)
    finally:
        # As Django's debug cursor records a statement, failed ones included.
        database.queries_log.append(
            {
                "sql": database.ops.last_executed_query(cursor, sql, params),
                "time": f"{time.monotonic() - started:.3f}",
            }
        )


def _cursor(database):
    # As Django's own cursor(): the connection's health check (when due), connecting.
    database.close_if_health_check_failed()
    database.ensure_connection()
    with database.wrap_database_errors:
        return database.connection.cursor()


@functools.cache
def _native(vendor: str, sql: str) -> str:
    """The statement in the driver's placeholder style: SQLite's `?`, once per
    statement; the other backends' drivers take `%s`. Cached: the bus runs a few
    statements of a few shapes (batch sizes are bounded)."""
    return sql.replace("%s", "?") if vendor == "sqlite" else sql
