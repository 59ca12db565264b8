"""The registry of event handlers of this process: which event types it subscribes
to and what runs for each."""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from .contracts import EventContract


@dataclass(frozen=True)
class Handler:
    name: str
    event_type: str
    func: Callable


_HANDLERS: dict[str, list[Handler]] = defaultdict(list)


def handles(*contracts: type[EventContract]):
    """Subscribe the decorated function to these event types.

    It is called as `func(event, envelope)` inside a database transaction that also
    records the event as processed, at most once per event id.
    """

    def register(func):
        name = f"{func.__module__}.{func.__qualname__}"
        for contract in contracts:
            if not any(h.name == name for h in _HANDLERS[contract.event_type]):
                _HANDLERS[contract.event_type].append(Handler(name, contract.event_type, func))
        return func

    return register


def handlers_for(event_type: str) -> list[Handler]:
    return list(_HANDLERS.get(event_type, ()))


def subscribed_event_types() -> list[str]:
    return sorted(t for t, hs in _HANDLERS.items() if hs)
