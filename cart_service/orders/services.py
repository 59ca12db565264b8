"""Writes of orders: checkout, the saga's status transitions and the timeout.

Checkout moves the cart's lines into a pending order and publishes `order.placed`;
the catalog (stock) and the payment service answer with events, and the handlers in
handlers.py settle the order through the functions below. A cart is ordered once:
its lines leave with the order, a second checkout while the order is pending is
refused (409), and an order that fails or is cancelled gives its lines back to the
cart. Only a pending order ever
changes: every transition locks the order's row and checks its status first, so a
duplicated or late event (a payment succeeding after the timeout) changes nothing.
"""

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from carts import services as cart_services
from carts.models import CartItem
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import status as http_status

from commerce_core.databases.inserts import insert_model_unless_taken, insert_models
from commerce_core.databases.prepared import prepared
from commerce_core.databases.updates import save_fields
from commerce_core.events.api import publish
from commerce_core.events.contracts.cart import CartLine
from commerce_core.events.contracts.orders import OrderCancelled, OrderPaid, OrderPlaced, OrderStatusChanged
from commerce_core.web.errors import ApplicationError, Conflict, error_body

from .models import IdempotencyRecord, Order, OrderLine, OrderStatus

logger = logging.getLogger(__name__)

TIMED_OUT = "timed out"

# --- the reads of every checkout and transition, compiled once per connection ------------


@prepared
def _pending_order_of(user_id: int) -> QuerySet[Order]:
    return Order.objects.filter(user_id=user_id, status=OrderStatus.PENDING).order_by("id")[:1]


@prepared
def _cart_items(cart_id: int) -> QuerySet[CartItem]:
    return CartItem.objects.filter(cart_id=cart_id).select_related("product").order_by("id")


@prepared
def _locked_order(order_id: int) -> QuerySet[Order]:
    return Order.objects.select_for_update().filter(pk=order_id)[:1]


@prepared
def _lines_of(order_id: int) -> QuerySet[OrderLine]:
    return OrderLine.objects.filter(order_id=order_id).order_by("id")


@prepared
def _idempotency_record(user_id: int, key: str) -> QuerySet[IdempotencyRecord]:
    return IdempotencyRecord.objects.filter(user_id=user_id, key=key)[:1]


# --- checkout ------------------------------------------------------------------------


def _unavailable(item: CartItem) -> str | None:
    """Why the replica already says this line cannot be sold, or None.

    The catalog decides finally when it reserves the stock; this only spares the
    customer an order that is known to fail."""
    product = item.product
    if not product.is_purchasable:
        return "no longer sold"
    if product.stock < item.quantity:
        return f"only {product.stock} in stock, the cart holds {item.quantity}"
    return None


class CheckoutInProgress(Conflict):
    """The customer's previous order is still pending. Not a final answer: once that
    order is paid, failed or cancelled, checkout works again."""

    code = "checkout_in_progress"


def _refuse_while_pending(order: Order) -> CheckoutInProgress:
    return CheckoutInProgress(
        f"Order {order.pk} is still pending: its payment is being processed. Check out again once it is "
        "paid, failed or cancelled (a failed or cancelled order puts its lines back in the cart)."
    )


@transaction.atomic
def order_place(*, user_id: int, payment_token: str) -> Order:
    """Move the user's cart into a pending order and start the checkout saga.

    The lines leave the cart with the order. While the order is pending, another
    checkout is refused (`CheckoutInProgress`, 409): the cart row's lock makes
    concurrent checkouts of one cart take turns, and the one after the first finds
    its pending order; the database's one-pending-order-per-customer constraint backs
    that up.
    """
    # Locking the cart keeps its lines still while they move into the order, and queues
    # a concurrent checkout of the same cart behind this transaction.
    cart = cart_services.locked_cart_of.first(user_id=user_id)
    pending = _pending_order_of.first(user_id=user_id)
    if pending is not None:
        raise _refuse_while_pending(pending)
    items = _cart_items.all(cart_id=cart.pk) if cart else []
    if not items:
        raise ApplicationError("The cart is empty.", code="cart_empty")
    problems = {item.product_id: why for item in items if (why := _unavailable(item))}
    if problems:
        listed = ", ".join(f"{product_id} ({why})" for product_id, why in sorted(problems.items()))
        raise ApplicationError(f"Some products in the cart cannot be ordered: {listed}.", code="products_unavailable")

    order = Order(
        user_id=user_id,
        status=OrderStatus.PENDING,
        total=sum((item.product.price * item.quantity for item in items), start=Decimal("0.00")),
    )
    if not insert_model_unless_taken(order):
        # The one-pending-order-per-customer constraint: another checkout got there first.
        pending = _pending_order_of.first(user_id=user_id)
        if pending is None:
            raise IntegrityError(f"the order of user {user_id} conflicts with another row")
        raise _refuse_while_pending(pending)
    lines = insert_models(
        [
            OrderLine(order=order, product_id=item.product_id, quantity=item.quantity, unit_price=item.product.price)
            for item in items
        ]
    )
    cart_services.cart_items_ordered(cart=cart, items=items)
    publish(
        OrderPlaced(
            order_id=order.pk,
            user_id=user_id,
            items=_payload_lines(lines),
            total=order.total,
            payment_token=payment_token,
        )
    )
    publish(OrderStatusChanged(order_id=order.pk, user_id=user_id, status=order.status))
    return order


def _payload_lines(lines) -> list[CartLine]:
    return [CartLine(product_id=line.product_id, quantity=line.quantity, unit_price=line.unit_price) for line in lines]


# --- idempotent checkout ---------------------------------------------------------------


@dataclass(frozen=True)
class CheckoutAnswer:
    """What the checkout endpoint answers: the status code and the JSON body."""

    status_code: int
    body: dict
    replayed: bool = False


def checkout_body(order: Order) -> dict:
    return {"order_id": order.pk, "status": order.status}


def _fingerprint(operation: str, payload: dict) -> str:
    canonical = json.dumps({"operation": operation, "input": payload}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(*, user_id: int, key: str, fingerprint: str) -> CheckoutAnswer | None:
    record = _idempotency_record.first(user_id=user_id, key=key)
    if record is None:
        return None
    if record.fingerprint != fingerprint:
        # As the IETF Idempotency-Key draft says: the key names one request, and this
        # is another one. 422 rather than 409, which we would use for "try again later".
        raise ApplicationError(
            "This Idempotency-Key was already used with different parameters.",
            code="idempotency_key_reused",
            status_code=http_status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    return CheckoutAnswer(record.status_code, record.body, replayed=True)


def order_checkout(*, user_id: int, payment_token: str, idempotency_key: str) -> CheckoutAnswer:
    """Checkout once per (user, `idempotency_key`): the first answer is stored and every
    retry with the same key gets it again, without a second order.

    Like Stripe, the answer is stored once checkout has run, whether it placed an order
    (202) or refused to by a business rule (400, say an empty cart): the retry of a
    refused request is refused alike. Input that fails validation never reaches this
    function, and an unexpected error rolls the record back, so neither is stored; nor
    is the 409 of a checkout while another order is pending, which says "later", not "no".

    Two concurrent requests with one key: the record is inserted in the transaction
    that places the order, and the (user, key) unique constraint makes the second
    insert wait for that transaction (PostgreSQL blocks on the index entry; SQLite's
    immediate transactions wait for the writer). It then fails, and the loser answers
    with the winner's stored answer, as a plain retry would. So both callers get the
    same answer and one order exists; neither is asked to retry with a 409.

    Not `@transaction.atomic` as a whole: the duplicate's IntegrityError has to end
    its transaction before the winner's answer can be read.
    """
    fingerprint = _fingerprint("checkout", {"payment_token": payment_token})
    # The usual retry comes after the first answer: read it without touching the constraint.
    answer = _replay(user_id=user_id, key=idempotency_key, fingerprint=fingerprint)
    if answer is not None:
        return answer
    try:
        with transaction.atomic():
            record = IdempotencyRecord(
                user_id=user_id, key=idempotency_key, fingerprint=fingerprint, status_code=0, body={}
            )
            # Inserted first so that a concurrent duplicate queues behind this transaction.
            insert_models([record])
            try:
                order = order_place(user_id=user_id, payment_token=payment_token)
            except CheckoutInProgress:
                # Not the key's answer: the same key works once the pending order ends.
                # Raised through this block, so the record rolls back with nothing stored.
                raise
            except ApplicationError as refusal:  # order_place's own savepoint has undone its writes
                record.status_code = refusal.status_code
                record.body = error_body(refusal.code, refusal.message, refusal.fields)
            else:
                record.order, record.status_code, record.body = (
                    order,
                    http_status.HTTP_202_ACCEPTED,
                    checkout_body(order),
                )
            save_fields(record, "order", "status_code", "body")
    except IntegrityError:
        answer = _replay(user_id=user_id, key=idempotency_key, fingerprint=fingerprint)
        if answer is None:  # not the key's constraint: a real failure
            raise
        return answer
    return CheckoutAnswer(record.status_code, record.body)


# --- the saga's transitions -----------------------------------------------------------


def _pending_order(order_id: int) -> Order | None:
    """The order, locked, if it is still pending; None (and a log line) otherwise."""
    order = _locked_order.first(order_id=order_id)
    if order is None:
        # Orders are committed before order.placed leaves, so this is an event from
        # another environment or a bug; retrying cannot make the order appear.
        logger.error("order %s is unknown to the cart service; event ignored", order_id)
        return None
    if order.status != OrderStatus.PENDING:
        logger.info("order %s is already %s; nothing changes", order_id, order.status)
        return None
    return order


def _set_status(order: Order, status: OrderStatus, *, reason: str = "") -> None:
    order.status, order.reason = status, reason
    save_fields(order, "status", "reason", "updated_at")
    publish(OrderStatusChanged(order_id=order.pk, user_id=order.user_id, status=status, reason=reason))


def _close_unpaid(order: Order, status: OrderStatus, reason: str) -> Order:
    """End an order that will not be paid. Its lines go back to the cart, for the
    customer to try again; `order.cancelled` tells the catalog to release its stock
    and the payment service to cancel or refund its payment."""
    _set_status(order, status, reason=reason)
    cart_services.cart_items_give_back(
        user_id=order.user_id, lines=[(line.product_id, line.quantity) for line in order.lines.order_by("id")]
    )
    publish(OrderCancelled(order_id=order.pk, user_id=order.user_id, reason=reason))
    return order


@transaction.atomic
def order_mark_paid(*, order_id: int) -> Order | None:
    """The payment went through: the order is paid (its lines left the cart at checkout).

    None when the order was no longer pending, for instance cancelled by the timeout
    before the charge: it stays cancelled, and the payment service refunds the charge
    because it received that `order.cancelled`.
    """
    order = _pending_order(order_id)
    if order is None:
        return None
    lines = _lines_of.all(order_id=order.pk)
    _set_status(order, OrderStatus.PAID)
    publish(OrderPaid(order_id=order.pk, user_id=order.user_id, items=_payload_lines(lines)))
    return order


@transaction.atomic
def order_fail(*, order_id: int, reason: str) -> Order | None:
    """The payment was declined. None when the order was no longer pending."""
    order = _pending_order(order_id)
    return _close_unpaid(order, OrderStatus.FAILED, reason) if order else None


@transaction.atomic
def order_cancel(*, order_id: int, reason: str) -> Order | None:
    """Cancel a pending order (stock refused, or an operator's decision). None when it
    was no longer pending."""
    order = _pending_order(order_id)
    return _close_unpaid(order, OrderStatus.CANCELLED, reason) if order else None


@transaction.atomic
def orders_cancel_timed_out(*, now: datetime | None = None, limit: int = 100) -> list[int]:
    """Cancel the orders still pending `ORDER_TIMEOUT_SECONDS` after checkout; returns their ids.

    SKIP LOCKED lets two workers sweep at once without cancelling an order twice, and
    passes over an order an event handler is settling right now (a later sweep sees
    its outcome). Beyond `limit`, the next sweep takes the rest.
    """
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.ORDER_TIMEOUT_SECONDS)
    stale = list(
        Order.objects.select_for_update(skip_locked=True)
        .filter(status=OrderStatus.PENDING, created_at__lte=cutoff)
        .order_by("created_at", "id")[:limit]
    )
    for order in stale:
        _close_unpaid(order, OrderStatus.CANCELLED, TIMED_OUT)
    return [order.pk for order in stale]
