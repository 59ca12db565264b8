"""A query of fixed shape, built and compiled to SQL once per database connection,
then run with new values: for the few SELECTs a service runs for every request or
event.

Django builds a queryset's filters and compiles them to SQL each time it runs one.
For the cart's checkout and add-to-cart, that was 40% of their CPU in process: more
than running the statements. A `Prepared` query is written as an ordinary queryset,
in a function of the values that change:

    @prepared
    def _locked_cart(user_id: int) -> QuerySet[Cart]:
        return Cart.objects.select_for_update().filter(user_id=user_id)[:1]

    cart = _locked_cart.first(user_id=7)

The first use on a connection builds it twice, with two sets of stand-in values,
and compiles both. The SQL must come out the same, and the parameters must differ
exactly where a stand-in went in, so each parameter is known to be either one of
the function's arguments, passed through unchanged, or a constant. Any other
outcome (a value the field converts, such as a date-time on SQLite, or a stand-in
that changed the SQL) raises `ValueError` there, rather than running a wrong query.
Arguments are `int` or `str`, declared by the function's annotations.

Afterwards each run skips both the building and the compiling: Django runs the
stored SQL with the new values, and turns the rows into models (or `values_list`
tuples) exactly as for the queryset, since its own iterable does it, handed a copy
of the compiler set up on first use. What it returns is a list (or one object),
never a queryset: chaining onto a queryset whose SQL is fixed would silently drop
the chained part.
"""

from __future__ import annotations

import copy
import inspect
import typing
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connections
from django.db.models import QuerySet
from django.db.models.sql.query import Query
from django.db.transaction import TransactionManagementError

#: Stand-ins within a 32-bit integer column's range (Django 5 turns an out-of-range
#: value into an empty result set, which would hide the parameter).
_INT_BASE = 2_000_000_000


def _stand_ins(kinds: dict[str, type], round_: int) -> dict[str, object]:
    values = {}
    for index, (name, kind) in enumerate(kinds.items()):
        if kind is int:
            values[name] = _INT_BASE + 10 * index + round_
        else:
            values[name] = f"prepared-stand-in-{round_}-{index}"
    return values


class _PreparedQuery(Query):
    """The query of one run: its compiler is the one set up on first use, with the SQL
    fixed and this run's parameters."""

    run_compiler = None

    def get_compiler(self, using=None, connection=None, elide_empty=True):
        return self.run_compiler


@dataclass(frozen=True)
class _Compiled:
    sql: str
    #: Per parameter: the argument's name, or None for a constant.
    slots: tuple[str | None, ...]
    constants: tuple
    compiler: object
    queryset: QuerySet
    query: _PreparedQuery
    for_update: bool


class Prepared:
    """A queryset-building function, compiled once per connection; see the module."""

    def __init__(self, build: Callable[..., QuerySet]):
        hints = typing.get_type_hints(build)
        names = list(inspect.signature(build).parameters)
        kinds = {name: hints.get(name) for name in names}
        if any(kind not in (int, str) for kind in kinds.values()):
            raise TypeError(f"{build.__qualname__}: every argument must be annotated int or str")
        self._build = build
        self._kinds = kinds
        self._compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._alias: str | None = None
        self.__doc__ = build.__doc__
        self.__name__ = build.__name__

    def all(self, **values) -> list:
        """Every row, as the queryset would give them."""
        return self._rows(self._compiled_for(values), values)

    def first(self, **values):
        """The row of a query sliced to `[:1]`, or None."""
        compiled = self._compiled_for(values)
        if compiled.queryset.query.high_mark != 1:
            raise ValueError(f"{self.__name__}: first() is for a query sliced to [:1]")
        rows = self._rows(compiled, values)
        return rows[0] if rows else None

    def _rows(self, compiled: _Compiled, values: dict) -> list:
        arguments = {name: _as_kind(name, value, self._kinds[name]) for name, value in values.items()}
        params = tuple(
            arguments[slot] if slot is not None else constant
            for slot, constant in zip(compiled.slots, compiled.constants, strict=True)
        )
        connection = compiled.compiler.connection
        if compiled.for_update and connection.get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        compiler = copy.copy(compiled.compiler)
        compiler.as_sql = lambda *args, **kwargs: (compiled.sql, params)
        compiled.query.run_compiler = compiler
        return list(_run_queryset(compiled.queryset, compiled.query))

    def _compiled_for(self, values: dict) -> _Compiled:
        if values.keys() != self._kinds.keys():
            raise TypeError(f"{self.__name__}() takes {', '.join(self._kinds)}, as keywords")
        if self._alias is None:
            self._alias = self._build(**_stand_ins(self._kinds, 1)).db
        connection = connections[self._alias]
        compiled = self._compiled.get(connection)
        if compiled is None:
            compiled = self._compiled[connection] = self._compile(connection)
        return compiled

    def _compile(self, connection) -> _Compiled:
        one, two = _stand_ins(self._kinds, 1), _stand_ins(self._kinds, 2)
        queryset = self._build(**one)
        compiler = queryset.query.get_compiler(connection=connection)
        try:
            sql, params = compiler.as_sql()
            other_sql, other_params = self._build(**two).query.get_compiler(connection=connection).as_sql()
        except (EmptyResultSet, FullResultSet):
            raise ValueError(
                f"{self.__name__}: with some values the query needs no SQL; it cannot be prepared"
            ) from None
        if other_sql != sql or len(other_params) != len(params):
            raise ValueError(f"{self.__name__}: the SQL changes with the values; it cannot be prepared")
        by_pair = {(one[name], two[name]): name for name in self._kinds}
        slots = []
        for first, second in zip(params, other_params, strict=True):
            if first == second:
                slots.append(None)
            elif (first, second) in by_pair:
                slots.append(by_pair[first, second])
            else:
                raise ValueError(f"{self.__name__}: a value is converted on its way into the SQL ({first!r})")
        if missing := set(self._kinds) - set(slots):
            raise ValueError(f"{self.__name__}: {', '.join(sorted(missing))} does not reach the SQL as given")
        # The rows' converters depend on the columns alone: found once, like the SQL.
        converters = compiler.get_converters([column for column, _sql, _alias in compiler.select[: compiler.col_count]])
        compiler.get_converters = lambda expressions: converters
        return _Compiled(
            sql=sql,
            slots=tuple(slots),
            constants=tuple(params),
            compiler=compiler,
            queryset=queryset,
            query=queryset.query.chain(klass=_PreparedQuery),
            for_update=queryset.query.select_for_update,
        )


def _as_kind(name: str, value, kind: type):
    """The argument as its column expects it: an int, or "7" made one, as the ORM
    does; a str, and never None, whose lookup would be `IS NULL`, another query."""
    if kind is str and not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    return kind(value)


def prepared(build: Callable[..., QuerySet]) -> Prepared:
    """Decorate a function that builds a queryset from its int and str arguments."""
    return Prepared(build)


def _run_queryset(template: QuerySet, query: _PreparedQuery) -> QuerySet:
    """A queryset like `template` (its model, database, iterable) over `query`."""
    run = template.__class__(model=template.model, query=query, using=template._db, hints=template._hints)
    run._for_write = template._for_write
    run._prefetch_related_lookups = template._prefetch_related_lookups[:]
    run._known_related_objects = template._known_related_objects
    run._iterable_class = template._iterable_class
    run._fields = template._fields
    return run
