"""INSERT statements written once per shape rather than compiled by the ORM at every
use: the bus's hot writes (an outbox row per event published, a batch's inbox rows)
and the rows a service adds for every order cost more CPU compiling through the ORM
than running."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from django.db import IntegrityError, connections, models, router, transaction
from django.db.models import Model, signals

from . import direct

#: (backend, model, columns, rows, suffix) → the statement. Bounded: the bus writes a
#: few shapes, a batch at most its worker's batch size of rows, and an order's lines
#: as many rows as orders have lines.
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


def insert_models(instances: Sequence[Model]) -> list[Model]:
    """Insert new instances of one model, as `save()` of one or `bulk_create()` of
    several would, with the statement written once per shape: each field's `pre_save`
    (`auto_now_add`), its own conversion, one INSERT ... RETURNING the primary keys,
    which are set on the instances; the driver's errors become Django's
    (`IntegrityError`). For the inserts a service makes for every request or event.

    Django itself does it when it must: for a model with save receivers, instances
    whose key is already set, or a database that cannot return inserted rows' keys.
    """
    instances = list(instances)
    if not instances:
        return instances
    model = type(instances[0])
    database = connections[router.db_for_write(model, instance=instances[0])]
    if _django_must(database, instances):
        if len(instances) == 1:
            instances[0].save(force_insert=True)
            return instances
        return model._default_manager.bulk_create(instances)
    keys = _insert(database, instances)
    for instance, (key,) in zip(instances, keys, strict=True):
        _inserted(instance, key, database)
    return instances


def insert_model_unless_taken(instance: Model) -> bool:
    """Insert a new instance unless a row already holds one of its unique values:
    True, its key set, if it went in; False, nothing written, if not.

    `INSERT ... ON CONFLICT DO NOTHING`: a conflict is no error, so it needs no
    savepoint to keep the transaction around it usable on PostgreSQL, where
    `try: create() except IntegrityError` inside `atomic()` costs a SAVEPOINT and its
    RELEASE on every insert. Any unique constraint counts, a partial one included."""
    model = type(instance)
    database = connections[router.db_for_write(model, instance=instance)]
    if _django_must(database, [instance]):
        try:
            with transaction.atomic(using=database.alias):
                instance.save(force_insert=True)
        except IntegrityError:
            return False
        return True
    keys = _insert(database, [instance], suffix="ON CONFLICT DO NOTHING")
    if not keys:
        return False
    _inserted(instance, keys[0][0], database)
    return True


def _django_must(database, instances: list[Model]) -> bool:
    """Whether the insert needs what only Django's own does: save receivers, a key
    given, a database default or an expression (F(), Now()) as a value."""
    model = type(instances[0])
    fields = _insert_fields(model)
    return (
        signals.pre_save.has_listeners(model)
        or signals.post_save.has_listeners(model)
        or not database.features.can_return_rows_from_bulk_insert
        or _has_database_defaults(model)
        or any(
            instance.pk is not None
            or any(hasattr(getattr(instance, field.attname), "resolve_expression") for field in fields)
            for instance in instances
        )
    )


def _insert(database, instances: list[Model], *, suffix: str = "") -> list[tuple]:
    """Run the INSERT of `instances` (one model's), returning the new rows' keys."""
    model = type(instances[0])
    fields = _insert_fields(model)
    returning = f"RETURNING {database.ops.quote_name(model._meta.pk.column)}"
    sql = insert_sql(
        database,
        model,
        tuple(field.name for field in fields),
        rows=len(instances),
        suffix=f"{suffix} {returning}" if suffix else returning,
    )
    params = [
        field.get_db_prep_save(field.pre_save(instance, True), database) for instance in instances for field in fields
    ]
    return direct.fetch_all(database, sql, params)


def _inserted(instance: Model, key, database) -> None:
    instance.pk = key
    instance._state.adding, instance._state.db = False, database.alias


@functools.cache
def _insert_fields(model: type[models.Model]) -> tuple:
    """The columns an INSERT of a new instance writes: all but the generated key."""
    return tuple(
        field
        for field in model._meta.local_concrete_fields
        if not field.primary_key and not getattr(field, "generated", False)
    )


@functools.cache
def _has_database_defaults(model: type[models.Model]) -> bool:
    return any(field.has_db_default() for field in _insert_fields(model))
