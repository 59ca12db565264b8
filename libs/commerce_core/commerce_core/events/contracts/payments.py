from decimal import Decimal

from .base import Audience, EventContract, event_contract


@event_contract("payment.succeeded", audience=Audience.USER)
class PaymentSucceeded(EventContract):
    payment_id: int
    order_id: int
    user_id: int
    amount: Decimal


@event_contract("payment.failed", audience=Audience.USER)
class PaymentFailed(EventContract):
    payment_id: int
    order_id: int
    user_id: int
    amount: Decimal
    reason: str
