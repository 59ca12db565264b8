"""A list's fixed query, compiled to SQL once per database connection rather than at
every request.

Django compiles a queryset to SQL each time it runs it. For a list page, whose
count and page queries are the same at every request but for the page's LIMIT and
OFFSET, compiling them took more CPU than running them: 0.3 ms of the 1.3 ms the
catalog's list page cost in process on SQLite. `CompiledRows` holds a `values_list()`
queryset, compiles its page and count queries on first use on each connection, and
afterwards only runs them and converts the rows' values as Django would (decimals,
date-times: the backend's and the fields' converters).

Django's `Paginator` pages through it as through the queryset itself (`count()`,
then a slice), so a view hands it to DRF's pagination unchanged. Only for a query
whose shape never changes: a filter, a search or an ordering taken from the request
is a different query, which the view runs as a queryset.

With `row_map`, a page holds each row as that function makes it from the row's
converted values (a list's output, say), and rows are mapped through a memo keyed
by the row as the database returned it: a row read again unchanged costs a lookup
instead of its conversion and its mapping. On SQLite, where a date-time arrives as
text to parse and a decimal as a float to round, that was over half of a list
page's own work. The memo cannot serve an old value: its key is the whole row as
just read, so a changed price or stock is another key. It holds values, never a
decision about which rows to read; `row_map` must be a function of the row alone,
and the page must not change what it returns (the same object serves again).
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connections
from django.db.models import QuerySet


@dataclass(frozen=True)
class _Compiled:
    page_sql: str
    count_sql: str
    params: tuple
    #: A raw row to what the page holds: its values converted as Django would (the
    #: backend's and the fields' converters), then mapped when there is a row_map.
    make_row: Callable


class CompiledRows:
    """The rows of a `values_list()` queryset, as tuples, a window at a time."""

    #: Django's Paginator warns about an unordered list; this one is always ordered.
    ordered = True

    #: Rows kept by the memo of a `row_map`, per connection: a catalog's worth.
    MEMO_ROWS = 4096

    def __init__(self, queryset: QuerySet, *, row_map: Callable[[tuple], object] | None = None):
        if not queryset.ordered:
            raise ValueError("pages of an unordered query are not stable: order it first")
        self._queryset = queryset
        self._row_map = row_map
        # Per connection (each thread has its own): the converters are bound to the
        # connection they were compiled on.
        self._compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def count(self) -> int:
        connection, compiled = self._compiled_for_connection()
        with connection.cursor() as cursor:
            cursor.execute(compiled.count_sql, compiled.params)
            return cursor.fetchone()[0]

    def __getitem__(self, window: slice) -> list[tuple]:
        if not isinstance(window, slice) or window.step is not None:
            raise TypeError("CompiledRows takes a window: rows[start:stop]")
        start = window.start or 0
        if start < 0 or (window.stop is not None and window.stop < start):
            raise ValueError("a window runs forward from a row that exists")
        connection, compiled = self._compiled_for_connection()
        sql, params = compiled.page_sql, compiled.params
        if window.stop is not None:
            sql, params = f"{sql} LIMIT %s OFFSET %s", (*params, window.stop - start, start)
        elif start:
            raise ValueError("a window that skips rows needs an end")
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        make_row = compiled.make_row
        return [make_row(row) for row in rows]

    def _compiled_for_connection(self):
        connection = connections[self._queryset.db]
        compiled = self._compiled.get(connection)
        if compiled is None:
            compiled = self._compiled[connection] = _compile(self._queryset, connection, self._row_map, self.MEMO_ROWS)
        return connection, compiled


def _compile(queryset: QuerySet, connection, row_map, memo_rows: int) -> _Compiled:
    compiler = queryset.query.get_compiler(connection=connection)
    page_sql, params = compiler.as_sql()
    converters = compiler.get_converters([column for column, _sql, _alias in compiler.select])
    unordered_sql, unordered_params = queryset.order_by().query.get_compiler(connection=connection).as_sql()
    if tuple(unordered_params) != tuple(params):
        raise ValueError("the query's parameters changed with its ordering")
    converters = tuple(
        (position, tuple(functions), expression) for position, (functions, expression) in converters.items()
    )
    if converters:
        make_row = functools.partial(_converted, converters=converters, connection=connection)
    else:
        make_row = tuple
    if row_map is not None:
        convert = make_row

        # Keyed by the raw row: every value of a column comes in the same type and
        # scale, so rows that compare equal print the same.
        @functools.lru_cache(maxsize=memo_rows)
        def make_row(raw: tuple):
            return row_map(convert(raw))

    return _Compiled(
        page_sql=page_sql,
        count_sql=f"SELECT COUNT(*) FROM ({unordered_sql}) counted",
        params=tuple(params),
        make_row=make_row,
    )


def _converted(row, converters, connection) -> tuple:
    row = list(row)
    for position, functions, expression in converters:
        value = row[position]
        for convert in functions:
            value = convert(value, expression, connection)
        row[position] = value
    return tuple(row)
