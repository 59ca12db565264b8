"""The customer replica a service keeps by installing `commerce_core.customers`:
fed by auth's user events, whatever order and however often they arrive."""

from datetime import datetime, timedelta

import pytest

from commerce_core.customers.models import CustomerReplica
from commerce_core.events.api import Envelope
from commerce_core.events.contracts.auth import UserRegistered, UserUpdated
from commerce_core.events.models import InboxMessage
from commerce_core.events.registry import handlers_for

pytestmark = pytest.mark.django_db


def envelope(event, *, seconds_later: int = 0) -> dict:
    """The envelope its publisher would send, stamped `seconds_later` than now."""
    body = Envelope.wrap(event, source="test").to_dict()
    body["time"] = (datetime.fromisoformat(body["time"]) + timedelta(seconds=seconds_later)).isoformat()
    return body


def test_installing_the_app_subscribes_the_service_to_the_user_events():
    for event_type in ("auth.user.registered", "auth.user.updated"):
        assert any(h.name.startswith("commerce_core.customers.") for h in handlers_for(event_type))


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
    updated = envelope(
        UserUpdated(user_id=3, username="annie", email="ann@example.org", is_active=False), seconds_later=1
    )
    deliver(updated)
    deliver(registered)
    replica = CustomerReplica.objects.get(pk=3)
    assert (replica.username, replica.email, replica.is_active) == ("annie", "ann@example.org", False)


def test_an_update_arriving_after_a_later_one_is_ignored(deliver):
    older = envelope(UserUpdated(user_id=3, username="ann", email="ann@example.com", is_active=False), seconds_later=1)
    newer = envelope(UserUpdated(user_id=3, username="ann", email="ann@example.com", is_active=True), seconds_later=2)
    deliver(newer)
    deliver(older)
    assert CustomerReplica.objects.get(pk=3).is_active


def test_a_redelivered_user_update_is_skipped(deliver):
    body = envelope(UserUpdated(user_id=3, username="ann", email="ann@example.com", is_active=True))
    deliver(body)
    first = CustomerReplica.objects.values().get(pk=3)
    deliver(body)
    assert CustomerReplica.objects.values().get(pk=3) == first
    assert InboxMessage.objects.filter(event_id=body["id"]).count() == 1


def test_the_admin_shows_customer_replicas_but_cannot_add_change_or_delete_them(operator_client, admin_url, deliver):
    deliver(UserRegistered(user_id=3, username="ann", email="ann@example.com"))
    assert b"ann@example.com" in operator_client.get(admin_url("customers/customerreplica/")).content
    assert operator_client.get(admin_url("customers/customerreplica/add/")).status_code == 403
    assert (
        operator_client.post(admin_url("customers/customerreplica/3/change/"), {"username": "eve"}).status_code == 403
    )
    assert operator_client.post(admin_url("customers/customerreplica/3/delete/"), {"post": "yes"}).status_code == 403
    assert CustomerReplica.objects.get(pk=3).username == "ann"
