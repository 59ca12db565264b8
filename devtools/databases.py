"""Each service's database, made ready before its migrations run.

The URL of a service's database is resolved exactly as the projects resolve it
(`commerce_core.settings.env.database_url`): `<SERVICE>_DATABASE_URL`, else
`DATABASE_URL` with `{service}` replaced, else a SQLite file under the state dir.
SQLite needs nothing but that directory. A PostgreSQL database that is missing is
created through the `postgres` maintenance database; in "fresh" mode (the
end-to-end tests) it is dropped and created again.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote, urlsplit, urlunsplit

from commerce_core.settings.env import database_url

__all__ = ["database_url", "drop_databases", "flavoured", "is_postgres", "prefixed_database_env", "prepare_databases"]

POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql", "postgis"}


def is_postgres(url: str) -> bool:
    return urlsplit(url).scheme in POSTGRES_SCHEMES


def database_name(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/"))


def with_database_name(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def flavoured(url: str, prefix: str) -> str:
    """The same server with the database name prefixed, e.g. `e2e_commerce_catalog`."""
    return with_database_name(url, prefix + database_name(url))


def _maintenance_conninfo(url: str) -> str:
    """A libpq URI for the server's `postgres` database (libpq knows only postgres[ql]://)."""
    parts = urlsplit(with_database_name(url, "postgres"))
    return urlunsplit(parts._replace(scheme="postgresql"))


def prepare_databases(urls: Iterable[str], *, fresh: bool = False, log=print) -> list[str]:
    """Create every PostgreSQL database named in `urls` that is missing (drop it first
    when `fresh`). Returns the names of those it created."""
    import psycopg
    from psycopg import sql

    created = []
    by_server: dict[str, set[str]] = {}
    for url in urls:
        if is_postgres(url):
            by_server.setdefault(_maintenance_conninfo(url), set()).add(database_name(url))
    for conninfo, names in by_server.items():
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as conn:
            for name in sorted(names):
                if fresh:
                    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
                if not exists:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                    created.append(name)
                    log(f"created database {name}")
    return created


def prefixed_database_env(prefix: str, state_dir, environ=None) -> dict[str, str]:
    """`<SERVICE>_DATABASE_URL` for every project whose database is PostgreSQL, on the
    same server with the database name prefixed (`e2e_commerce_cart`): what a test,
    drill or benchmark run uses, so that it never touches the databases of `make run`.
    SQLite projects need nothing: their files live in the run's own state dir."""
    import os

    from commerce_core.settings.topology import PROJECTS

    environ = os.environ if environ is None else environ
    env = {}
    for project in PROJECTS:
        url = database_url(project.name, environ, state_dir)
        if is_postgres(url):
            env[f"{project.name.upper()}_DATABASE_URL"] = flavoured(url, prefix)
    return env


def drop_databases(urls: Iterable[str], *, log=print) -> None:
    """Drop the PostgreSQL databases among `urls` (best effort: what a run made for itself)."""
    import psycopg
    from psycopg import sql

    for url in urls:
        if not is_postgres(url):
            continue
        try:
            with psycopg.connect(_maintenance_conninfo(url), autocommit=True, connect_timeout=10) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database_name(url)))
                )
        except psycopg.Error as exc:
            log(f"could not drop {database_name(url)}: {exc}")
