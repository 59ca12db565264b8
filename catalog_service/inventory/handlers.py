"""The catalog's part of the checkout saga (steps 2 and 5 of the design): it reacts to
orders being placed, paid and cancelled by holding, keeping or giving back stock.

Each handler runs once per event id (the inbox); the services it calls are also
idempotent per order, whatever the order the events arrive in."""

from commerce_core.events.api import Envelope, handles
from commerce_core.events.contracts.orders import OrderCancelled, OrderPlaced
from commerce_core.events.contracts.payments import PaymentSucceeded

from . import services


@handles(OrderPlaced)
def reserve_the_stock_of_a_placed_order(event: OrderPlaced, envelope: Envelope) -> None:
    services.stock_reserve_for_order(
        order_id=event.order_id, user_id=event.user_id, items=event.items, total=event.total
    )


@handles(PaymentSucceeded)
def commit_the_reservation_of_a_paid_order(event: PaymentSucceeded, envelope: Envelope) -> None:
    services.stock_reservation_commit(order_id=event.order_id)


@handles(OrderCancelled)
def release_the_stock_of_a_cancelled_order(event: OrderCancelled, envelope: Envelope) -> None:
    services.stock_release_for_order(order_id=event.order_id, user_id=event.user_id, reason=event.reason)
