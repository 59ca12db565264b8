"""INSERT statements written once per shape rather than compiled by the ORM at every
use: the bus's hot writes (an outbox row per event published, a batch's inbox rows)
cost more CPU compiling through the ORM than running."""

from __future__ import annotations

from django.db import models

#: (backend, model, columns, rows, suffix) → the statement. Bounded: the bus writes a
#: few shapes, and a batch at most its worker's batch size of rows.
_written: dict[tuple, str] = {}


def insert_sql(
    connection, model: type[models.Model], fields: tuple[str, ...], *, rows: int = 1, suffix: str = ""
) -> str:
    """`INSERT INTO <model's table> (<fields' columns>) VALUES (%s, ...), ...` for
    `rows` rows, then `suffix` (an `ON CONFLICT` clause), quoted by the backend of
    `connection`; its parameters are the rows' values one after another."""
    key = (connection.vendor, model, fields, rows, suffix)
    sql = _written.get(key)
    if sql is None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES {', '.join([row] * rows)}"
        sql = _written[key] = f"{sql} {suffix}" if suffix else sql
    return sql
