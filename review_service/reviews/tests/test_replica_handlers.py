from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from commerce_core.events.api import Envelope
from commerce_core.events.contracts.auth import UserRegistered, UserUpdated
from commerce_core.events.contracts.catalog import ProductCreated, ProductDeleted
from commerce_core.events.models import InboxMessage
from reviews.models import CustomerReplica, ProductReplica

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


def test_a_registered_user_becomes_an_active_customer_replica(deliver):
    deliver(UserRegistered(user_id=3, username="ann", email="ann@example.com"))
    replica = CustomerReplica.objects.get(pk=3)
    assert (replica.username, replica.email, replica.is_active) == ("ann", "ann@example.com", True)


def test_a_user_update_changes_the_customer_replica(deliver):
    deliver(UserRegistered(user_id=3, username="ann", email="ann@example.com"))
    deliver(UserUpdated(user_id=3, username="annie", email="ann@example.org", is_active=False))
    replica = CustomerReplica.objects.get(pk=3)
    assert (replica.username, replica.email, replica.is_active) == ("annie", "ann@example.org", False)


def test_a_registration_arriving_after_a_later_update_is_ignored(deliver):
    registered = envelope(UserRegistered(user_id=3, username="ann", email="ann@example.com"))
    updated = envelope(UserUpdated(user_id=3, username="annie", email="ann@example.org", is_active=False),
                       seconds_later=1)
    deliver(updated)
    deliver(registered)
    replica = CustomerReplica.objects.get(pk=3)
    assert (replica.username, replica.is_active) == ("annie", False)


def test_a_redelivered_user_update_is_skipped(deliver):
    body = envelope(UserUpdated(user_id=3, username="ann", email="ann@example.com", is_active=True))
    deliver(body)
    first = CustomerReplica.objects.values().get(pk=3)
    deliver(body)
    assert CustomerReplica.objects.values().get(pk=3) == first
    assert InboxMessage.objects.filter(event_id=body["id"]).count() == 1
