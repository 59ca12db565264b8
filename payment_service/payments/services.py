"""Writes of payments: the payment service's part of the checkout saga.

    order.placed    → a pending Payment is recorded (one per order)
    stock.reserved  → it is charged: succeeded (payment.succeeded) or failed (payment.failed)
    stock.rejected  → a pending one is cancelled, never charged
    order.cancelled → a pending one is cancelled; a succeeded one is refunded (payment.refunded)

Each function runs in one transaction with the events it publishes, and decides
under a lock on the Payment row by its status. The inbox already runs a handler
once per event id; the row lock and the status check are what make *different*
events about one order (a redelivered copy with a new id, an admin refund racing
a cancellation) charge or refund it at most once.
"""

from decimal import Decimal

from django.db import transaction

from commerce_core.events.api import publish
from commerce_core.events.contracts.payments import PaymentFailed, PaymentRefunded, PaymentSucceeded
from commerce_core.web.errors import ApplicationError, Conflict, NotFound

from .models import Payment
from .providers import get_provider


class PaymentNotRecordedYet(Exception):
    """An event about an order whose `order.placed` this service has not handled yet.

    Events of one order can overtake each other between services; raising lets the
    bus retry the handler with backoff until the order's payment is recorded."""


class RefundDeclined(ApplicationError):
    status_code = 409
    code = "refund_declined"


def charge_idempotency_key(order_id: int) -> str:
    # One charge per order, whichever event or worker asks for it.
    return f"order-{order_id}"


def refund_idempotency_key(order_id: int) -> str:
    return f"order-{order_id}-refund"


def _locked_payment_of(order_id: int) -> Payment:
    payment = Payment.objects.select_for_update().filter(order_id=order_id).first()
    if payment is None:
        raise PaymentNotRecordedYet(f"no payment recorded for order {order_id} yet")
    return payment


@transaction.atomic
def payment_record(
    *, order_id: int, user_id: int, amount: Decimal, payment_token: str, currency: str = "usd"
) -> Payment:
    """The pending payment of a newly placed order; the existing one if it is recorded already."""
    payment, _ = Payment.objects.get_or_create(
        order_id=order_id,
        defaults={"user_id": user_id, "amount": amount, "payment_token": payment_token, "currency": currency},
    )
    return payment


@transaction.atomic
def payment_charge(*, order_id: int) -> Payment:
    """Charge the order's pending payment through the provider, once.

    Anything but `pending` is left alone: it was charged already, or the order was
    given up (`cancelled`) before its stock was reserved. The row stays locked while
    the provider answers, so a concurrent attempt waits and then finds it decided.
    """
    payment = _locked_payment_of(order_id)
    if payment.status != Payment.Status.PENDING:
        return payment
    result = get_provider().charge(
        amount=payment.amount,
        currency=payment.currency,
        token=payment.payment_token,
        idempotency_key=charge_idempotency_key(order_id),
    )
    payment.provider_reference = result.reference
    if result.succeeded:
        payment.status = Payment.Status.SUCCEEDED
        payment.failure_reason = ""
        event = PaymentSucceeded(
            order_id=order_id, payment_id=payment.id, user_id=payment.user_id, amount=payment.amount
        )
    else:
        payment.status = Payment.Status.FAILED
        payment.failure_reason = result.failure_reason
        event = PaymentFailed(
            order_id=order_id,
            payment_id=payment.id,
            user_id=payment.user_id,
            amount=payment.amount,
            reason=result.failure_reason,
        )
    payment.save(update_fields=["status", "provider_reference", "failure_reason", "updated_at"])
    publish(event)
    return payment


def _cancel(payment: Payment, *, reason: str) -> Payment:
    payment.status = Payment.Status.CANCELLED
    payment.failure_reason = reason[:255]
    payment.save(update_fields=["status", "failure_reason", "updated_at"])
    return payment


def _refund(payment: Payment) -> Payment:
    result = get_provider().refund(
        reference=payment.provider_reference,
        amount=payment.amount,
        idempotency_key=refund_idempotency_key(payment.order_id),
    )
    if not result.succeeded:
        # Raised, not recorded: in a handler the bus retries and then parks the event
        # where an operator sees it; in the admin the message says why.
        raise RefundDeclined(f"The provider declined the refund of payment {payment.id}: {result.failure_reason}.")
    payment.status = Payment.Status.REFUNDED
    payment.refund_reference = result.reference
    payment.save(update_fields=["status", "refund_reference", "updated_at"])
    publish(
        PaymentRefunded(
            order_id=payment.order_id, payment_id=payment.id, user_id=payment.user_id, amount=payment.amount
        )
    )
    return payment


@transaction.atomic
def payment_cancel(*, order_id: int, reason: str) -> Payment:
    """The order's stock was rejected: its pending payment will never be charged."""
    payment = _locked_payment_of(order_id)
    if payment.status == Payment.Status.PENDING:
        _cancel(payment, reason=reason)
    return payment


@transaction.atomic
def payment_settle_cancelled_order(*, order_id: int, reason: str) -> Payment:
    """The order will not complete: cancel its payment if still pending, refund it if charged.

    A payment that failed, or was cancelled or refunded already, stays as it is.
    """
    payment = _locked_payment_of(order_id)
    if payment.status == Payment.Status.PENDING:
        return _cancel(payment, reason=reason)
    if payment.status == Payment.Status.SUCCEEDED:
        return _refund(payment)
    return payment


@transaction.atomic
def payment_refund(*, payment_id: int) -> Payment:
    """Refund a succeeded payment on an operator's request (the admin's "Refund" action)."""
    payment = Payment.objects.select_for_update().filter(pk=payment_id).first()
    if payment is None:
        raise NotFound(f"Payment {payment_id} not found.")
    if payment.status != Payment.Status.SUCCEEDED:
        raise Conflict(
            f"Payment {payment_id} is {payment.status}; only a succeeded payment can be refunded.",
            code="not_refundable",
        )
    return _refund(payment)
