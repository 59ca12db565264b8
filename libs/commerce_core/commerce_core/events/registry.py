"""The registry of event handlers of this process: which event types it subscribes
to and what runs for each. Apps declare handlers in their `handlers.py` (imported
when Django starts, see apps.py) with `@handles`."""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from .contracts import EventContract


@dataclass(frozen=True)
class Handler:
    name: str
    event_type: str
    func: Callable
    #: Whether the bus runs it inside the database transaction that records it as done.
    atomic: bool = True


_HANDLERS: dict[str, list[Handler]] = defaultdict(list)


def handles(*contracts: type[EventContract], atomic: bool = True):
    """Subscribe the decorated function to these event types.

    It is called as `func(event, envelope)` inside a database transaction that also
    records the event as processed, at most once per event id. (The transaction may
    hold a batch of events; `transaction.on_commit` callbacks run after it commits.)

    `atomic=False` is for handlers whose effect lies outside this service's
    database (a Redis write, a call to another system): they run outside any
    transaction, and the event is recorded as processed after they return. A crash
    in between runs them again, so they must be idempotent by the event's id.
    """

    def register(func):
        name = f"{func.__module__}.{func.__qualname__}"
        for contract in contracts:
            if not any(h.name == name for h in _HANDLERS[contract.event_type]):
                _HANDLERS[contract.event_type].append(Handler(name, contract.event_type, func, atomic))
        return func

    return register


def handlers_for(event_type: str) -> list[Handler]:
    return _HANDLERS.get(event_type, [])


def handler_named(name: str, event_type: str) -> Handler | None:
    return next((h for h in _HANDLERS.get(event_type, ()) if h.name == name), None)


def subscribed_event_types() -> list[str]:
    return sorted(t for t, hs in _HANDLERS.items() if hs)
