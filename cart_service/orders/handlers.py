"""The checkout saga's answers the cart listens to, each settling a pending order.

Each handler runs once per event id (the inbox sees to that), and the services only
change a pending order under its row lock, so a duplicate or late event is a no-op."""

from commerce_core.events.api import Envelope, handles
from commerce_core.events.contracts.inventory import StockRejected
from commerce_core.events.contracts.payments import PaymentFailed, PaymentSucceeded

from . import services


@handles(StockRejected)
def cancel_order_without_stock(event: StockRejected, envelope: Envelope) -> None:
    services.order_cancel(order_id=event.order_id, reason=event.reason)


@handles(PaymentFailed)
def fail_order_with_declined_payment(event: PaymentFailed, envelope: Envelope) -> None:
    services.order_fail(order_id=event.order_id, reason=event.reason)


@handles(PaymentSucceeded)
def complete_paid_order(event: PaymentSucceeded, envelope: Envelope) -> None:
    services.order_mark_paid(order_id=event.order_id)
