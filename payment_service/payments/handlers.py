"""Events the payment service subscribes to: its steps of the checkout saga.

Each handler runs once per event id (the bus sees to that) and leaves every decision
to services.py. An event about an order whose `order.placed` has not arrived yet
raises `PaymentNotRecordedYet`, and the bus retries it with backoff.

The steps that call the provider (charging, refunding) only put the call in flight
in the handler's transaction; services.py makes the call once that transaction has
committed, outside any, and records the answer in a transaction of its own. Beyond
the event id, the payment's status decides what is left to do.
"""

from commerce_core.events.api import Envelope, handles
from commerce_core.events.contracts.inventory import StockRejected, StockReserved
from commerce_core.events.contracts.orders import OrderCancelled, OrderPlaced

from . import services


@handles(OrderPlaced)
def record_payment_of_placed_order(event: OrderPlaced, envelope: Envelope) -> None:
    services.payment_record(
        order_id=event.order_id, user_id=event.user_id, amount=event.total, payment_token=event.payment_token
    )


@handles(StockReserved)
def charge_order_with_reserved_stock(event: StockReserved, envelope: Envelope) -> None:
    services.payment_charge(order_id=event.order_id)


@handles(StockRejected)
def cancel_payment_of_order_without_stock(event: StockRejected, envelope: Envelope) -> None:
    services.payment_cancel(order_id=event.order_id, reason=f"stock rejected: {event.reason}")


@handles(OrderCancelled)
def give_back_payment_of_cancelled_order(event: OrderCancelled, envelope: Envelope) -> None:
    services.payment_settle_cancelled_order(order_id=event.order_id, reason=f"order cancelled: {event.reason}")
