"""CompiledRows: a fixed values_list() query compiled once, paged as the queryset is."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commerce_core.databases import compiled
from commerce_core.databases.compiled import CompiledRows
from tests.inputapp.factories import make_item
from tests.inputapp.models import Item, Shelf

pytestmark = pytest.mark.django_db

COLUMNS = ("id", "name", "price", "placed_at", "shelf")


@pytest.fixture
def items():
    shelf = Shelf.objects.create(name="Kitchen")
    made = [make_item(shelf=shelf, name=f"Mug {n}", price=f"{n}.5", count=n) for n in range(1, 8)]
    Item.objects.filter(pk=made[2].pk).update(placed_at=datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC))
    return made


def cheap_items():
    return Item.objects.filter(price__lt=Decimal("6")).order_by("-price", "id").values_list(*COLUMNS)


def test_every_window_holds_the_rows_the_queryset_gives_with_the_same_python_values(items):
    queryset = cheap_items()
    rows = CompiledRows(queryset)

    assert rows.count() == queryset.count() == 5
    for start, stop in [(0, 2), (2, 4), (4, 6), (0, 5), (5, 9), (0, 0)]:
        assert rows[start:stop] == list(queryset[start:stop])
    (row,) = [row for row in rows[0:5] if row[0] == items[2].pk]
    assert row[2] == Decimal("3.50") and isinstance(row[2], Decimal)
    assert row[3] == datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)


def test_django_s_paginator_pages_through_it_as_through_the_queryset(items):
    queryset = cheap_items()
    compiled, plain = Paginator(CompiledRows(queryset), 2), Paginator(queryset, 2)

    assert compiled.count == plain.count and compiled.num_pages == plain.num_pages == 3
    for number in compiled.page_range:
        assert list(compiled.page(number)) == list(plain.page(number))


def test_it_compiles_once_per_connection_and_afterwards_only_runs_its_sql(items, monkeypatch):
    rows = CompiledRows(cheap_items())
    assert rows.count() == 5

    def compile_again(*args):
        raise AssertionError("compiled again")

    monkeypatch.setattr(compiled, "_compile", compile_again)
    with CaptureQueriesContext(connection) as queries:
        assert rows.count() == 5
        assert [row[1] for row in rows[1:3]] == ["Mug 4", "Mug 3"]

    assert len(queries) == 2


def test_an_unordered_query_is_refused_since_its_pages_would_not_be_stable():
    with pytest.raises(ValueError, match="unordered"):
        CompiledRows(Item.objects.order_by().values_list("id"))


def describe(row):
    return {"id": row[0], "name": row[1], "price": str(row[2]), "placed_at": row[3].isoformat()}


def test_with_a_row_map_a_page_holds_each_row_as_the_map_makes_it_from_the_converted_values(items):
    queryset = cheap_items()
    rows = CompiledRows(queryset, row_map=describe)

    assert rows[0:5] == [describe(row) for row in queryset[0:5]]
    assert Paginator(rows, 2).count == 5


def test_a_row_read_again_unchanged_is_mapped_once(items):
    calls = []
    rows = CompiledRows(cheap_items(), row_map=lambda row: calls.append(row[0]) or describe(row))

    first, again = rows[0:5], rows[0:5]

    assert again == first and len(calls) == 5


def test_a_changed_row_is_mapped_afresh_so_the_memo_never_serves_its_old_values(items):
    rows = CompiledRows(cheap_items(), row_map=describe)
    before = {row["id"]: row for row in rows[0:5]}

    Item.objects.filter(pk=items[2].pk).update(price=Decimal("4.25"), name="Mug 3, repriced")
    after = {row["id"]: row for row in rows[0:5]}

    assert before[items[2].pk]["price"] == "3.50"
    assert after[items[2].pk] == {**before[items[2].pk], "price": "4.25", "name": "Mug 3, repriced"}
    assert {pk: row for pk, row in after.items() if pk != items[2].pk} == {
        pk: row for pk, row in before.items() if pk != items[2].pk
    }
