"""Taking every service's database away for a while, as a failover would.

- PostgreSQL: new connections are refused (`ALLOW_CONNECTIONS false`) and the
  open ones dropped, for every service's database, then allowed again.
- SQLite: every database file is locked for writing (`BEGIN EXCLUSIVE`) by the
  drill; writers wait out their busy timeout and fail, readers go on (WAL).
"""

from __future__ import annotations

import sqlite3
import time

from commerce_core.settings.topology import PROJECTS
from devtools import databases


def databases_unavailable(platform, *, seconds: float) -> None:
    """Every service's database away for `seconds`, then back."""
    env = platform.child_env()
    urls = [databases.database_url(project.name, env, platform.state_dir) for project in PROJECTS]
    postgres = [url for url in urls if databases.is_postgres(url)]
    sqlite = [url for url in urls if not databases.is_postgres(url)]
    locks = [_lock_sqlite(url) for url in sqlite]
    for url in postgres:
        _allow_connections(url, False)
    try:
        time.sleep(seconds)
    finally:
        for url in postgres:
            _allow_connections(url, True)
        for lock in locks:
            lock.rollback()
            lock.close()


def _lock_sqlite(url: str) -> sqlite3.Connection:
    connection = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30, isolation_level=None)
    connection.execute("BEGIN EXCLUSIVE")
    return connection


def _allow_connections(url: str, allowed: bool) -> None:
    import psycopg
    from psycopg import sql

    name = databases.database_name(url)
    maintenance = databases.with_database_name(url, "postgres").replace("postgres://", "postgresql://", 1)
    with psycopg.connect(maintenance, autocommit=True, connect_timeout=10) as conn:
        conn.execute(
            sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
                sql.Identifier(name), sql.SQL(str(allowed).lower())
            )
        )
        if not allowed:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
