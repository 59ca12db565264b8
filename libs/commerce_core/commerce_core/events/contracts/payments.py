"""The payment service's answers in the checkout saga (see docs/checkout-saga.md).

A charge is announced once it is recorded, whatever became of its order meanwhile:
a `payment.succeeded` for an order that was cancelled first (a late charge) is
followed by its `payment.refunded`, and the cart leaves such an order cancelled.
"""

from decimal import Decimal

from .base import Audience, event_contract
from .orders import OrderEvent


@event_contract("payment.succeeded", audience=Audience.USER)
class PaymentSucceeded(OrderEvent):
    payment_id: int
    user_id: int
    amount: Decimal


@event_contract("payment.failed", audience=Audience.USER)
class PaymentFailed(OrderEvent):
    payment_id: int
    user_id: int
    amount: Decimal
    reason: str


@event_contract("payment.refunded")
class PaymentRefunded(OrderEvent):
    """The charge was given back: the order was cancelled, or an operator refunded it."""

    payment_id: int
    user_id: int
    amount: Decimal
