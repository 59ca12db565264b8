import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from carts.models import CartItem, ProductReplica
from carts.services import cart_item_add, product_replica_record
from commerce_core.customers.models import CustomerReplica
from commerce_core.events.api import Envelope
from commerce_core.events.contracts.auth import UserRegistered
from commerce_core.events.contracts.catalog import (
    ProductCreated,
    ProductDeleted,
    ProductPriceChanged,
    ProductStockChanged,
)
from commerce_core.events.models import InboxMessage, OutboxMessage

pytestmark = pytest.mark.django_db


def envelope(event, *, seconds_later: int = 0) -> dict:
    """The envelope its publisher would send, stamped `seconds_later` than now."""
    body = Envelope.wrap(event, source="test").to_dict()
    body["time"] = (datetime.fromisoformat(body["time"]) + timedelta(seconds=seconds_later)).isoformat()
    return body


def test_a_created_product_becomes_a_replica(deliver):
    deliver(ProductCreated(product_id=7, name="Mug", price=Decimal("12.50"), stock=3))
    replica = ProductReplica.objects.get(pk=7)
    assert (replica.name, replica.price, replica.stock, replica.is_deleted) == ("Mug", Decimal("12.50"), 3, False)


def test_a_price_change_updates_the_replica_price(deliver):
    deliver(ProductCreated(product_id=7, name="Mug", price=Decimal("12.50"), stock=3))
    deliver(ProductPriceChanged(product_id=7, old_price=Decimal("12.50"), price=Decimal("9.99")))
    assert ProductReplica.objects.get(pk=7).price == Decimal("9.99")


def test_a_stock_change_updates_the_replica_stock(deliver):
    deliver(ProductCreated(product_id=7, name="Mug", price=Decimal("12.50"), stock=3))
    deliver(ProductStockChanged(product_id=7, stock=40))
    assert ProductReplica.objects.get(pk=7).stock == 40


def test_delivering_the_same_event_twice_changes_nothing_the_second_time(deliver):
    body = envelope(ProductCreated(product_id=7, name="Mug", price=Decimal("12.50"), stock=3))
    deliver(body)
    first = ProductReplica.objects.values().get(pk=7)
    deliver(body)
    assert ProductReplica.objects.values().get(pk=7) == first
    assert InboxMessage.objects.filter(event_id=body["id"]).count() == 1


def test_the_same_change_under_a_new_event_id_changes_nothing_either(deliver):
    created = ProductCreated(product_id=7, name="Mug", price=Decimal("12.50"), stock=3)
    body = envelope(created)
    deliver(body)
    first = ProductReplica.objects.values().get(pk=7)
    deliver({**body, "id": str(uuid.uuid4())})
    assert ProductReplica.objects.values().get(pk=7) == first


def test_a_price_change_that_overtakes_the_creation_is_kept(deliver):
    created = envelope(ProductCreated(product_id=7, name="Mug", price=Decimal("12.50"), stock=3))
    repriced = envelope(
        ProductPriceChanged(product_id=7, old_price=Decimal("12.50"), price=Decimal("9.99")), seconds_later=1
    )
    deliver(repriced)
    assert ProductReplica.objects.get(pk=7).price == Decimal("9.99")
    deliver(created)
    replica = ProductReplica.objects.get(pk=7)
    assert (replica.name, replica.price, replica.stock) == ("Mug", Decimal("9.99"), 3)


def test_a_stale_stock_change_does_not_overwrite_a_newer_one(deliver):
    deliver(ProductCreated(product_id=7, name="Mug", price=Decimal("12.50"), stock=3))
    older = envelope(ProductStockChanged(product_id=7, stock=5), seconds_later=1)
    newer = envelope(ProductStockChanged(product_id=7, stock=2), seconds_later=2)
    deliver(newer)
    deliver(older)
    assert ProductReplica.objects.get(pk=7).stock == 2


def test_a_product_known_only_by_its_stock_cannot_be_sold_yet(deliver):
    deliver(ProductStockChanged(product_id=7, stock=5))
    replica = ProductReplica.objects.get(pk=7)
    assert replica.stock == 5
    assert replica.price is None
    assert not replica.is_purchasable


def test_a_deletion_that_overtakes_the_creation_keeps_the_product_deleted(deliver):
    created = envelope(ProductCreated(product_id=7, name="Mug", price=Decimal("12.50"), stock=3))
    deleted = envelope(ProductDeleted(product_id=7), seconds_later=1)
    deliver(deleted)
    deliver(created)
    replica = ProductReplica.objects.get(pk=7)
    assert replica.is_deleted
    assert not replica.is_purchasable


def test_a_deleted_product_leaves_every_cart_and_each_owner_is_told(deliver, django_capture_on_commit_callbacks):
    deliver(ProductCreated(product_id=7, name="Mug", price=Decimal("12.50"), stock=10))
    deliver(ProductCreated(product_id=8, name="Pot", price=Decimal("3.00"), stock=10))
    with django_capture_on_commit_callbacks(execute=False):
        cart_item_add(user_id=1, product_id=7, quantity=1)
        cart_item_add(user_id=1, product_id=8, quantity=2)
        cart_item_add(user_id=2, product_id=7, quantity=3)
        cart_item_add(user_id=3, product_id=8, quantity=1)
    OutboxMessage.objects.all().delete()

    deliver(ProductDeleted(product_id=7))

    assert not CartItem.objects.filter(product_id=7).exists()
    announced = {m.envelope["data"]["user_id"]: m.envelope["data"] for m in OutboxMessage.objects.all()}
    assert set(announced) == {1, 2}
    assert announced[1]["items"] == [{"product_id": 8, "quantity": 2, "unit_price": "3.00"}]
    assert announced[1]["total"] == "6.00"
    assert announced[2] == {"user_id": 2, "items": [], "total": "0.00"}


def test_a_price_change_is_announced_to_the_carts_holding_the_product(deliver, django_capture_on_commit_callbacks):
    deliver(ProductCreated(product_id=7, name="Mug", price=Decimal("12.50"), stock=10))
    with django_capture_on_commit_callbacks(execute=False):
        cart_item_add(user_id=1, product_id=7, quantity=2)
    OutboxMessage.objects.all().delete()

    deliver(ProductPriceChanged(product_id=7, old_price=Decimal("12.50"), price=Decimal("10.00")))

    message = OutboxMessage.objects.get()
    assert message.event_type == "cart.updated"
    assert message.envelope["data"]["total"] == "20.00"


def test_a_stale_price_change_neither_overwrites_a_newer_price_nor_announces_the_carts(
    deliver, django_capture_on_commit_callbacks
):
    deliver(envelope(ProductCreated(product_id=7, name="Mug", price=Decimal("12.50"), stock=10)))
    with django_capture_on_commit_callbacks(execute=False):
        cart_item_add(user_id=1, product_id=7, quantity=2)
    deliver(
        envelope(ProductPriceChanged(product_id=7, old_price=Decimal("11.00"), price=Decimal("9.00")), seconds_later=2)
    )
    OutboxMessage.objects.all().delete()

    deliver(
        envelope(ProductPriceChanged(product_id=7, old_price=Decimal("12.50"), price=Decimal("11.00")), seconds_later=1)
    )

    assert ProductReplica.objects.get(pk=7).price == Decimal("9.00")
    assert not OutboxMessage.objects.exists()


def test_a_newer_price_equal_to_the_held_one_announces_no_cart_and_keeps_later_stale_ones_out(
    deliver, django_capture_on_commit_callbacks
):
    # The catalog went 12.50 -> 9.00 -> 12.50; the last change overtakes the one before.
    deliver(envelope(ProductCreated(product_id=7, name="Mug", price=Decimal("12.50"), stock=10)))
    with django_capture_on_commit_callbacks(execute=False):
        cart_item_add(user_id=1, product_id=7, quantity=2)
    OutboxMessage.objects.all().delete()

    deliver(
        envelope(ProductPriceChanged(product_id=7, old_price=Decimal("9.00"), price=Decimal("12.50")), seconds_later=2)
    )
    deliver(
        envelope(ProductPriceChanged(product_id=7, old_price=Decimal("12.50"), price=Decimal("9.00")), seconds_later=1)
    )

    assert ProductReplica.objects.get(pk=7).price == Decimal("12.50")
    assert not OutboxMessage.objects.exists()


def test_a_stock_change_after_the_deletion_does_not_bring_the_product_back(deliver):
    deliver(ProductCreated(product_id=7, name="Mug", price=Decimal("12.50"), stock=3))
    deliver(ProductDeleted(product_id=7))
    deliver(envelope(ProductStockChanged(product_id=7, stock=40), seconds_later=1))
    replica = ProductReplica.objects.get(pk=7)
    assert (replica.stock, replica.is_deleted, replica.is_purchasable) == (40, True, False)


def _writes_to_replicas(queries) -> list[str]:
    return [q["sql"] for q in queries if "carts_productreplica" in q["sql"]]


def test_a_product_first_heard_of_by_its_creation_is_stored_in_one_statement():
    with CaptureQueriesContext(connection) as queries:
        product_replica_record(product_id=7, name="Mug", price=Decimal("12.50"), stock=3, as_of=timezone.now())
    assert len(_writes_to_replicas(queries)) == 1
    replica = ProductReplica.objects.get(pk=7)
    assert (replica.name, replica.price, replica.stock, replica.is_purchasable) == ("Mug", Decimal("12.50"), 3, True)


def test_a_newer_stock_or_price_of_a_known_product_is_stored_in_one_statement():
    created = timezone.now()
    product_replica_record(product_id=7, name="Mug", price=Decimal("12.50"), stock=3, as_of=created)
    with CaptureQueriesContext(connection) as queries:
        product_replica_record(product_id=7, stock=2, as_of=created + timedelta(seconds=1))
        product_replica_record(product_id=7, price=Decimal("9.99"), as_of=created + timedelta(seconds=1))
    assert len(_writes_to_replicas(queries)) == 2
    replica = ProductReplica.objects.get(pk=7)
    assert (replica.price, replica.stock) == (Decimal("9.99"), 2)


def test_users_are_replicated_as_customers_by_the_shared_app(deliver):
    deliver(UserRegistered(user_id=3, username="ann", email="ann@example.com"))
    assert CustomerReplica.objects.filter(pk=3, username="ann", is_active=True).exists()
