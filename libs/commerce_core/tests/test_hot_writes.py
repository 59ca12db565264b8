"""save_fields and insert_models: save(update_fields=...), save() of a new row and
bulk_create(), with their statements written once per shape."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, signals
from django.db.models.functions import Now

from commerce_core.databases.inserts import insert_model_unless_taken, insert_models
from commerce_core.databases.updates import save_fields
from tests.busapp.models import Tally
from tests.inputapp.factories import make_item
from tests.inputapp.models import Item, Shelf

pytestmark = pytest.mark.django_db


def test_it_writes_the_named_fields_and_only_those():
    item, other = make_item(name="Mug", price="9.90", count=3), make_item(name="Cup")
    item.price, item.count, item.name = Decimal("12.50"), 7, "not saved"

    save_fields(item, "price", "count")

    stored = Item.objects.get(pk=item.pk)
    assert (stored.price, stored.count, stored.name) == (Decimal("12.50"), 7, "Mug")
    assert Item.objects.get(pk=other.pk).name == "Cup"


def test_a_foreign_key_and_a_date_time_are_stored_as_save_would_store_them():
    item = make_item()
    hall = Shelf.objects.create(name="Hall")
    item.shelf, item.placed_at = hall, datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)

    save_fields(item, "shelf", "placed_at")

    stored = Item.objects.get(pk=item.pk)
    assert (stored.shelf_id, stored.placed_at) == (hall.pk, datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=UTC))


def test_a_row_that_is_gone_raises_as_save_with_update_fields_does():
    item = make_item()
    Item.objects.filter(pk=item.pk).delete()
    item.count = 9

    with pytest.raises(DatabaseError, match="did not affect any rows"):
        save_fields(item, "count")


def test_a_model_with_save_receivers_goes_through_save_so_that_they_run():
    seen = []

    def record(sender, instance, update_fields, **kwargs):
        seen.append(set(update_fields or ()))

    signals.post_save.connect(record, sender=Item)
    try:
        item = make_item()
        seen.clear()
        item.count = 4
        save_fields(item, "count")
    finally:
        signals.post_save.disconnect(record, sender=Item)

    assert seen == [{"count"}]
    assert Item.objects.get(pk=item.pk).count == 4


def test_a_new_row_is_stored_as_save_stores_it_and_gets_its_key():
    shelf = Shelf.objects.create(name="Kitchen")
    when = datetime(2026, 2, 3, 4, 5, 6, 789, tzinfo=UTC)
    item = Item(shelf=shelf, name="Jug", price=Decimal("3.10"), count=2, placed_at=when)

    (inserted,) = insert_models([item])

    assert inserted is item and item.pk is not None and not item._state.adding
    stored = Item.objects.get(pk=item.pk)
    assert (stored.shelf_id, stored.name, stored.price, stored.count, stored.rating, stored.placed_at) == (
        shelf.pk,
        "Jug",
        Decimal("3.10"),
        2,
        1,
        when,
    )


def test_several_rows_go_in_one_statement_each_with_its_own_key():
    shelf = Shelf.objects.create(name="Hall")
    items = [
        Item(shelf=shelf, name=f"Hook {n}", price=Decimal(n), count=n, placed_at=datetime(2026, 1, n, tzinfo=UTC))
        for n in range(1, 6)
    ]

    insert_models(items)

    assert len({item.pk for item in items}) == 5
    for item in items:
        stored = Item.objects.get(pk=item.pk)
        assert (stored.name, stored.count) == (item.name, item.count)


def test_a_duplicate_row_raises_djangos_integrity_error_and_a_savepoint_survives_it():
    insert_models([Tally(thing_id=5)])

    with pytest.raises(IntegrityError), transaction.atomic():
        insert_models([Tally(thing_id=5)])

    assert Tally.objects.filter(thing_id=5).count() == 1


def test_an_insert_unless_taken_writes_a_new_row_and_skips_a_taken_one_without_breaking_the_transaction():
    with transaction.atomic():
        first = Tally(thing_id=6, count=1)
        assert insert_model_unless_taken(first) is True and first.pk is not None

        second = Tally(thing_id=6, count=99)
        assert insert_model_unless_taken(second) is False and second.pk is None
        # No error and no savepoint: the transaction goes on (on PostgreSQL an
        # IntegrityError would have aborted it).
        assert Tally.objects.get(thing_id=6).count == 1
        insert_model_unless_taken(Tally(thing_id=7))
    assert sorted(Tally.objects.values_list("thing_id", flat=True)) == [6, 7]


def test_a_value_given_as_an_expression_is_left_to_django_to_insert():
    shelf = Shelf.objects.create(name="Attic")
    item = Item(shelf=shelf, name="Lamp", price=Decimal("1.00"), placed_at=Now())

    insert_models([item])

    assert Item.objects.get(pk=item.pk).placed_at is not None


def test_a_field_set_to_an_expression_is_left_to_django_to_update():
    item = make_item(count=3)
    item.count = F("count") + 2

    save_fields(item, "count")

    assert Item.objects.get(pk=item.pk).count == 5
