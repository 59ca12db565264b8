"""The auth events that keep the customer replica up to date.

Each handler runs once per event id (the inbox sees to that); the service it calls
is also idempotent and order-tolerant in effect (see services.py)."""

from datetime import datetime

from commerce_core.events.api import Envelope, handles
from commerce_core.events.contracts.auth import UserRegistered, UserUpdated

from . import services


def _published_at(envelope: Envelope) -> datetime:
    return datetime.fromisoformat(envelope.time)


@handles(UserRegistered)
def record_registered_customer(event: UserRegistered, envelope: Envelope) -> None:
    services.customer_replica_record(
        user_id=event.user_id, username=event.username, email=event.email, as_of=_published_at(envelope)
    )


@handles(UserUpdated)
def record_updated_customer(event: UserUpdated, envelope: Envelope) -> None:
    services.customer_replica_record(
        user_id=event.user_id,
        username=event.username,
        email=event.email,
        is_active=event.is_active,
        as_of=_published_at(envelope),
    )
