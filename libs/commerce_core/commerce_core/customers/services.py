"""Writes of the customer replica, fed by handlers.py.

Every write is idempotent in effect (the same event applied twice leaves the same
row) and tolerant of order: a state is replaced only by one auth published later,
judged by the envelope's `time`, which auth stamps inside the transaction that
changed the user."""

from datetime import datetime

from django.db import transaction

from .models import CustomerReplica


@transaction.atomic
def customer_replica_record(
    *, user_id: int, username: str, email: str, as_of: datetime, is_active: bool | None = None
) -> CustomerReplica:
    """Store the user as auth published it at `as_of`, unless a later state is stored already.

    `is_active` is None for `auth.user.registered`, which does not carry it: a new
    user is active.
    """
    values = {"username": username, "email": email, "as_of": as_of}
    if is_active is not None:
        values["is_active"] = is_active
    replica, created = CustomerReplica.objects.select_for_update().get_or_create(user_id=user_id, defaults=values)
    if not created and as_of > replica.as_of:
        for field, value in values.items():
            setattr(replica, field, value)
        replica.save()
    return replica
