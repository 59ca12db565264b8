"""Checkout saga events (choreographed: no service tells another what to do; each
reacts to the others' events).

    cart:    order.placed ───────────────┐
    catalog: stock.reserved | stock.rejected (see inventory.py)
    payment: payment.succeeded | payment.failed (see payments.py)
    cart:    order.status_changed (pushed to the buyer), order.paid, order.cancelled
"""

from decimal import Decimal

from .base import Audience, EventContract, event_contract
from .cart import CartLine


class OrderEvent(EventContract):
    """Every event of the saga names its order (and so has the subject `order/<id>`)."""

    order_id: int


@event_contract("order.placed")
class OrderPlaced(OrderEvent):
    user_id: int
    items: list[CartLine]
    total: Decimal
    payment_token: str


@event_contract("order.status_changed", audience=Audience.USER)
class OrderStatusChanged(OrderEvent):
    user_id: int
    status: str
    reason: str = ""


@event_contract("order.paid")
class OrderPaid(OrderEvent):
    """The order is final and paid: reviews learn verified purchases from it."""

    user_id: int
    items: list[CartLine]


@event_contract("order.cancelled")
class OrderCancelled(OrderEvent):
    """The order will not complete (stock rejected, payment declined or a timeout):
    whoever holds something for it releases it (stock) or gives it back (refund)."""

    user_id: int
    reason: str
