"""Every domain event type, declared once, with its payload schema.

A contract is a pydantic model registered under its CloudEvents `type`. Publishers
build one, consumers receive one: neither side ever reads the other's models.
Adding an event type: declare it in the module of its bounded context below, then
publish it and subscribe to it (README, "Adding an event type").
"""

from . import auth, cart, catalog, inventory, orders, payments, reviews  # noqa: F401  (registers the contracts)
from .base import Audience, EventContract, UnknownEventType, contract_for, event_contract, registered_contracts

__all__ = ["Audience", "EventContract", "UnknownEventType", "contract_for", "event_contract", "registered_contracts"]
