"""`instance.save(update_fields=...)` for the writes a service makes for every
request or event, with its UPDATE written once per shape instead of compiled by the
ORM each time.

Django builds and compiles `UPDATE ... WHERE id = ...` anew at every such save: for
the cart's checkout that was a sixth of its CPU in process. `save_fields` does what
that save does for a model without save signals, in the same order: each field's
`pre_save` (so `auto_now` stamps `updated_at`), its own conversion to the database's
value, one UPDATE of those columns by primary key run on the driver's cursor
(`commerce_core.databases.direct`), and the same `DatabaseError` when no row was
there to update. A model with `pre_save` or `post_save` receivers goes through
`save()` itself, so that they run, and so does a value given as an expression.
"""

from __future__ import annotations

from django.db import DatabaseError, connections, router
from django.db.models import Model, signals

from . import direct

#: (backend, model, fields) → (statement, fields). Bounded: a few hot writes.
_written: dict[tuple, tuple] = {}


def save_fields(instance: Model, *names: str) -> None:
    """`instance.save(update_fields=names)`: its changed fields, by primary key."""
    model = type(instance)
    if signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model):
        instance.save(update_fields=names)
        return
    database = connections[router.db_for_write(model, instance=instance)]
    key = (database.vendor, model, names)
    written = _written.get(key)
    if written is None:
        written = _written[key] = _update_sql(database, model, names)
    sql, fields = written
    values = [field.pre_save(instance, False) for field in fields]
    if any(hasattr(value, "resolve_expression") for value in values):  # F("stock") + 1: Django's to compile
        instance.save(update_fields=names)
        return
    params = [field.get_db_prep_save(value, database) for field, value in zip(fields, values, strict=True)]
    params.append(model._meta.pk.get_db_prep_value(instance.pk, database))
    if not direct.execute(database, sql, params):
        raise DatabaseError("Save with update_fields did not affect any rows.")


def _update_sql(database, model: type[Model], names: tuple[str, ...]) -> tuple[str, tuple]:
    meta = model._meta
    fields = tuple(meta.get_field(name) for name in names)
    if any(not field.concrete or field.primary_key for field in fields):
        raise ValueError(f"{model.__name__}: only concrete, non-key fields can be saved this way")
    quote = database.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    return f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s", fields
