"""Checkout saga events. Declared with the walking skeleton so their names are fixed;
the saga that publishes them is part of the commerce domain."""
from decimal import Decimal

from .base import Audience, EventContract, event_contract
from .cart import CartLine


@event_contract("order.placed")
class OrderPlaced(EventContract):
    order_id: int
    user_id: int
    items: list[CartLine]
    total: Decimal
    payment_token: str


@event_contract("order.status_changed", audience=Audience.USER)
class OrderStatusChanged(EventContract):
    order_id: int
    user_id: int
    status: str
    reason: str = ""
