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
    payment_id: int
    user_id: int
    amount: Decimal
