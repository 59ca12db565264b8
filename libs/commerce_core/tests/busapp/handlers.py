"""Handlers whose behaviour the tests steer through `behaviour`."""

import threading

from django.db import IntegrityError, transaction
from django.db.models import F

from commerce_core.events.api import handles

from .contracts import ThingFailed, ThingHappened, ThingPushed, ThingTallied
from .models import Effect, Tally

behaviour = {"flaky_failures_left": 0, "broken": True}
attempts: dict[str, int] = {}
_lock = threading.Lock()


def _attempt(name: str) -> None:
    with _lock:
        attempts[name] = attempts.get(name, 0) + 1


@handles(ThingHappened)
def record_thing(event, envelope):
    _attempt("record")
    Effect.objects.create(handler="record", thing_id=event.thing_id)


@handles(ThingFailed)
def steady_handler(event, envelope):
    _attempt("steady")
    Effect.objects.create(handler="steady", thing_id=event.thing_id)


@handles(ThingFailed)
def broken_handler(event, envelope):
    _attempt("broken")
    Effect.objects.create(handler="broken", thing_id=event.thing_id)
    if behaviour["broken"]:
        raise RuntimeError("downstream unavailable")


@handles(ThingHappened)
def flaky_handler(event, envelope):
    _attempt("flaky")
    with _lock:
        fail = behaviour["flaky_failures_left"] > 0
        if fail:
            behaviour["flaky_failures_left"] -= 1
    if fail:
        raise RuntimeError("transient failure")
    Effect.objects.create(handler="flaky", thing_id=event.thing_id)


#: What the non-atomic handler did, outside the database: one entry per event id.
pushed: dict[str, int] = {}


@handles(ThingPushed, atomic=False)
def push_thing(event, envelope):
    _attempt("push")
    with _lock:
        fail = behaviour["flaky_failures_left"] > 0
        if fail:
            behaviour["flaky_failures_left"] -= 1
    if fail:
        raise RuntimeError("push target unavailable")
    assert not transaction.get_connection().in_atomic_block, "a non-atomic handler runs outside any transaction"
    pushed[envelope.id] = pushed.get(envelope.id, 0) + 1


@handles(ThingTallied)
@transaction.atomic
def tally_thing(event, envelope):
    """Nests `atomic` blocks as the services do, and goes on after the inner one
    failed, as a create that lost to an existing row does: that needs its savepoint."""
    _attempt("tally")
    try:
        with transaction.atomic():
            Tally.objects.create(thing_id=event.thing_id)
    except IntegrityError:
        Tally.objects.filter(thing_id=event.thing_id).update(count=F("count") + 1)
