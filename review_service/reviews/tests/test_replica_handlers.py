from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from commerce_core.customers.models import CustomerReplica
from commerce_core.events.api import Envelope
from commerce_core.events.contracts.auth import UserRegistered
from commerce_core.events.contracts.catalog import ProductCreated, ProductDeleted
from commerce_core.events.models import InboxMessage
from reviews.models import ProductReplica

pytestmark = pytest.mark.django_db


def envelope(event, *, seconds_later: int = 0) -> dict:
    """The envelope its publisher would send, stamped `seconds_later` than now."""
    body = Envelope.wrap(event, source="test").to_dict()
    body["time"] = (datetime.fromisoformat(body["time"]) + timedelta(seconds=seconds_later)).isoformat()
    return body


def created(product_id=7, name="Mug"):
    return ProductCreated(product_id=product_id, name=name, price=Decimal("12.50"), stock=3)


def test_a_created_product_becomes_a_replica(deliver):
    deliver(created())
    replica = ProductReplica.objects.get(pk=7)
    assert (replica.name, replica.is_deleted) == ("Mug", False)


def test_a_deleted_product_becomes_a_tombstone(deliver):
    deliver(created())
    deliver(ProductDeleted(product_id=7))
    assert ProductReplica.objects.get(pk=7).is_deleted


def test_a_deletion_that_overtakes_the_creation_keeps_the_product_deleted(deliver):
    deliver(ProductDeleted(product_id=7))
    deliver(created())
    replica = ProductReplica.objects.get(pk=7)
    assert (replica.name, replica.is_deleted) == ("Mug", True)


def test_delivering_the_same_event_twice_changes_nothing_the_second_time(deliver):
    body = envelope(created())
    deliver(body)
    first = ProductReplica.objects.values().get(pk=7)
    deliver(body)
    assert ProductReplica.objects.values().get(pk=7) == first
    assert InboxMessage.objects.filter(event_id=body["id"]).count() == 1


def test_users_are_replicated_as_customers_by_the_shared_app(deliver):
    deliver(UserRegistered(user_id=3, username="ann", email="ann@example.com"))
    assert CustomerReplica.objects.filter(pk=3, username="ann", is_active=True).exists()
