"""Prepared: a queryset of fixed shape compiled once per connection, run with new values."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import QuerySet
from django.db.models.sql.compiler import SQLCompiler
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from commerce_core.databases.prepared import prepared
from tests.inputapp.factories import make_item
from tests.inputapp.models import Item, Shelf

pytestmark = pytest.mark.django_db


@prepared
def items_named(shelf_id: int, name: str) -> QuerySet[Item]:
    return Item.objects.filter(shelf_id=shelf_id, name=name, price__gt=Decimal("1")).order_by("id")


@prepared
def first_item_with_shelf(item_id: int) -> QuerySet[Item]:
    return Item.objects.select_related("shelf").filter(pk=item_id)[:1]


@prepared
def locked_item(item_id: int) -> QuerySet[Item]:
    return Item.objects.select_for_update().filter(pk=item_id)[:1]


@prepared
def prices_on_shelf(shelf_id: int) -> QuerySet[Item]:
    return Item.objects.filter(shelf_id=shelf_id).order_by("id").values_list("name", "price", "placed_at")


@pytest.fixture
def shelves():
    kitchen, hall = Shelf.objects.create(name="Kitchen"), Shelf.objects.create(name="Hall")
    for shelf in (kitchen, hall):
        for name, price in [("Mug", "9.90"), ("Mug", "0.50"), ("Cup", "4.25"), ("Mug", "12.00")]:
            make_item(shelf=shelf, name=name, price=price)
    return kitchen, hall


def test_each_run_gives_the_rows_the_queryset_gives_for_its_own_values(shelves):
    kitchen, hall = shelves
    for shelf in (kitchen, hall):
        for name in ("Mug", "Cup", "Plate"):
            expected = list(Item.objects.filter(shelf_id=shelf.pk, name=name, price__gt=1).order_by("id"))
            got = items_named.all(shelf_id=shelf.pk, name=name)
            assert got == expected
            assert [(item.name, item.price, item.placed_at) for item in got] == [
                (item.name, item.price, item.placed_at) for item in expected
            ]


def test_values_list_rows_come_converted_as_django_converts_them(shelves):
    kitchen, _ = shelves
    Item.objects.filter(shelf=kitchen, price=Decimal("4.25")).update(
        placed_at=datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    )

    rows = prices_on_shelf.all(shelf_id=kitchen.pk)

    assert rows == list(
        Item.objects.filter(shelf_id=kitchen.pk).order_by("id").values_list("name", "price", "placed_at")
    )
    assert ("Cup", Decimal("4.25"), datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)) in rows
    assert all(isinstance(price, Decimal) for _, price, _ in rows)


def test_select_related_fills_in_the_related_model_without_another_query(shelves):
    item = Item.objects.filter(shelf=shelves[1]).first()
    first_item_with_shelf.first(item_id=item.pk)  # compiled on first use

    with CaptureQueriesContext(connection) as queries:
        found = first_item_with_shelf.first(item_id=item.pk)
        assert found.shelf.name == "Hall"
    assert len(queries) == 1
    assert first_item_with_shelf.first(item_id=10**6) is None


def test_a_run_builds_and_compiles_nothing_once_the_connection_has_compiled_it(shelves, monkeypatch):
    kitchen, hall = shelves
    items_named.all(shelf_id=kitchen.pk, name="Mug")

    def compiled_again(*args, **kwargs):
        raise AssertionError("compiled again")

    monkeypatch.setattr(SQLCompiler, "as_sql", compiled_again)
    monkeypatch.setattr(QuerySet, "filter", compiled_again)
    assert [item.price for item in items_named.all(shelf_id=hall.pk, name="Mug")] == [
        Decimal("9.90"),
        Decimal("12.00"),
    ]


def test_the_select_for_update_of_a_prepared_query_still_needs_a_transaction(shelves):
    item = Item.objects.first()
    with transaction.atomic():
        assert locked_item.first(item_id=item.pk) == item
    with pytest.raises(TransactionManagementError):
        _outside_any_transaction(lambda: locked_item.first(item_id=item.pk))


def _outside_any_transaction(run):
    """Run with the connection in autocommit, as a request outside `atomic` would be."""
    in_atomic, autocommit = connection.in_atomic_block, connection.autocommit
    connection.in_atomic_block, connection.autocommit = False, True
    try:
        return run()
    finally:
        connection.in_atomic_block, connection.autocommit = in_atomic, autocommit


def test_a_value_that_django_converts_on_its_way_into_the_sql_is_refused():
    @prepared
    def placed_after(seconds: int) -> QuerySet[Item]:
        # A date-time parameter: the argument does not reach the SQL as it was given.
        return Item.objects.filter(placed_at__gt=datetime.fromtimestamp(seconds, UTC))

    with pytest.raises(ValueError, match="converted"):
        placed_after.all(seconds=1_767_225_600)


def test_a_value_that_changes_the_sql_is_refused():
    @prepared
    def by_ids(count: int) -> QuerySet[Item]:
        return Item.objects.filter(pk__in=list(range(1, 2 + count % 7)))

    with pytest.raises(ValueError, match="SQL changes"):
        by_ids.all(count=3)


def test_arguments_must_be_declared_int_or_str():
    with pytest.raises(TypeError):

        @prepared
        def untyped(item_id) -> QuerySet[Item]:
            return Item.objects.filter(pk=item_id)


def test_first_is_only_for_a_query_sliced_to_one_row(shelves):
    with pytest.raises(ValueError, match=r"\[:1\]"):
        items_named.first(shelf_id=shelves[0].pk, name="Mug")


def test_a_missing_value_is_refused_rather_than_looked_up_as_text(shelves):
    with pytest.raises(TypeError):
        items_named.all(shelf_id=shelves[0].pk, name=None)
    with pytest.raises(TypeError):
        items_named.all(shelf_id=None, name="Mug")
    assert items_named.all(shelf_id=str(shelves[0].pk), name="Cup")[0].name == "Cup"  # "7", as the ORM takes it
