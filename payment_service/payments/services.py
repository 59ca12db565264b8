"""Writes of payments: the payment service's part of the checkout saga.

    order.placed    → a pending Payment is recorded (one per order)
    stock.reserved  → it is charged: succeeded (payment.succeeded) or failed (payment.failed)
    stock.rejected  → a pending one is cancelled, never charged
    order.cancelled → a pending one is cancelled; a charged one is refunded (payment.refunded)

The money moves at the provider, which no database transaction of ours can include.
So every call to it is framed by transactions, and a crash between any two lines
leaves a record of where it stopped:

1. the call is recorded *in flight* (`charging` or `refunding`, with the idempotency
   key it carries), in the transaction that decides it;
2. once that transaction has committed, the provider is called, outside any
   transaction (`transaction.on_commit`: a bus handler's transaction may be shared
   by a whole batch of events, and the call waits for all of it);
3. its answer is recorded, with the event it causes, in a transaction of its own.

A crash before 1 commits leaves the event unhandled, and the bus delivers it again.
A crash after it leaves a payment in flight, which `payments_resolve_in_flight` (a
periodic job of the worker) settles by asking the provider again with the same key:
the provider answers what it did, or does it now, and never does it twice. Step 3,
and step 1 where no caller's transaction is involved (the admin, the resolver), are
`durable` atomic blocks: called inside another transaction they raise instead of
silently becoming a savepoint that commits nothing yet.

Every decision is taken under a lock on the Payment row, by its status. The inbox
runs a handler once per event id; the lock and the status are what make different
events about one order (a redelivered copy with a new id, an admin refund racing a
cancellation, the resolver racing a slow call) charge or refund it at most once.

A cancelled order never keeps the money: its payment ends `cancelled` (never
charged), `failed`, or `refunded`. A cancellation that arrives while the charge is
in flight is remembered (`order_cancelled_at`), and the charge's success, whenever
it is recorded, starts the refund in the same transaction.

The fault points `payment.before_charge` and `payment.after_charge`
(commerce_core.faults, for the fault drills and the crash tests only) sit on either
side of the provider's charge.
"""

import contextvars
import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from commerce_core import faults
from commerce_core.databases.inserts import insert_model_unless_taken
from commerce_core.databases.prepared import prepared
from commerce_core.databases.updates import save_fields
from commerce_core.events.api import publish
from commerce_core.events.contracts.payments import PaymentFailed, PaymentRefunded, PaymentSucceeded
from commerce_core.web.errors import ApplicationError, Conflict, NotFound

from .models import Payment
from .providers import ChargeResult, RefundResult, get_provider

logger = logging.getLogger(__name__)

Status = Payment.Status


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


# The reads of every order's steps, compiled once per connection.


@prepared
def _payment_of_order(order_id: int) -> QuerySet[Payment]:
    return Payment.objects.filter(order_id=order_id)[:1]


@prepared
def _locked_payment_of_order(order_id: int) -> QuerySet[Payment]:
    return Payment.objects.select_for_update().filter(order_id=order_id)[:1]


@prepared
def _payment(payment_id: int) -> QuerySet[Payment]:
    return Payment.objects.filter(pk=payment_id)[:1]


@prepared
def _locked_payment(payment_id: int) -> QuerySet[Payment]:
    return Payment.objects.select_for_update().filter(pk=payment_id)[:1]


def _locked_payment_of(order_id: int) -> Payment:
    payment = _locked_payment_of_order.first(order_id=order_id)
    if payment is None:
        raise PaymentNotRecordedYet(f"no payment recorded for order {order_id} yet")
    return payment


def _locked(payment_id: int) -> Payment:
    payment = _locked_payment.first(payment_id=payment_id)
    if payment is None:
        raise Payment.DoesNotExist(f"no payment {payment_id}")
    return payment


# --- recording ---------------------------------------------------------------------------


@transaction.atomic
def payment_record(
    *, order_id: int, user_id: int, amount: Decimal, payment_token: str, currency: str = "usd"
) -> Payment:
    """The pending payment of a newly placed order; the existing one if it is recorded already."""
    payment = Payment(order_id=order_id, user_id=user_id, amount=amount, payment_token=payment_token, currency=currency)
    if insert_model_unless_taken(payment):
        return payment
    # Recorded already: an order.placed delivered again under another event id.
    recorded = _payment_of_order.first(order_id=order_id)
    if recorded is None:
        raise IntegrityError(f"the payment of order {order_id} conflicts with a row of another order")
    return recorded


# --- charging ------------------------------------------------------------------------------


@transaction.atomic
def payment_charge(*, order_id: int) -> Payment:
    """Charge the order's payment, once: put a pending payment in flight; the provider
    is asked once the caller's transaction has committed.

    A payment found in flight already belongs to whoever put it there, or, once
    overdue, to the resolver: a redelivered event does not ask the provider again.
    Anything else was decided already, or given up with its order, and is left alone.
    """
    payment = _locked_payment_of(order_id)
    if payment.status == Status.PENDING:
        payment.status = Status.CHARGING
        payment.charge_idempotency_key = charge_idempotency_key(order_id)
        payment.in_flight_since = timezone.now()
        save_fields(payment, "status", "charge_idempotency_key", "in_flight_since", "updated_at")
        _after_commit(_charge_at_provider, payment.pk, status=Status.CHARGING)
    return payment


def _after_commit(call, payment_id: int, *, status: str) -> None:
    """Make the provider call `call(payment)` once the current transaction has
    committed (at once, outside one), unless the payment has left `status` by then
    (the resolver answered first). A failure is logged, not raised: it must not
    disturb the committed work around it, and the payment stays in flight for the
    resolver to ask again."""

    def provider_call() -> None:
        try:
            payment = _payment.first(payment_id=payment_id)
            if payment is not None and payment.status == status:
                call(payment)
        except Exception:
            logger.exception("the provider call of payment %s failed; it stays in flight for the resolver", payment_id)

    # Run in the context of the code that decided the call: its request id in the logs,
    # and its trace (the event published with the answer continues the checkout's).
    context = contextvars.copy_context()
    transaction.on_commit(lambda: context.run(provider_call))


def _charge_at_provider(payment: Payment) -> Payment:
    """Ask the provider for the charge in flight and record its answer (then the
    refund, should the order have been cancelled meanwhile). Outside any transaction."""
    faults.point("payment.before_charge")
    result = get_provider().charge(
        amount=payment.amount,
        currency=payment.currency,
        token=payment.payment_token,
        idempotency_key=payment.charge_idempotency_key,
    )
    logger.info("the provider answered the charge %s: %s", payment.charge_idempotency_key, _said(result))
    faults.point("payment.after_charge")
    payment, refund_began = _charge_record(payment_id=payment.pk, result=result)
    if refund_began:
        payment = _refund_at_provider(payment)
    return payment


def _said(result: ChargeResult | RefundResult) -> str:
    return "succeeded" if result.succeeded else f"declined ({result.failure_reason})"


@transaction.atomic(durable=True)
def _charge_record(*, payment_id: int, result: ChargeResult) -> tuple[Payment, bool]:
    """Record the charge's answer; True when that starts a refund (the order was
    cancelled meanwhile), which the caller then asks the provider for."""
    payment = _locked(payment_id)
    if payment.status != Status.CHARGING:
        return payment, False  # another attempt recorded the provider's (same) answer first
    payment.provider_reference = result.reference
    payment.in_flight_since = None
    if result.succeeded:
        payment.status, payment.failure_reason = Status.SUCCEEDED, ""
        event = PaymentSucceeded(
            order_id=payment.order_id, payment_id=payment.id, user_id=payment.user_id, amount=payment.amount
        )
    else:
        payment.status, payment.failure_reason = Status.FAILED, result.failure_reason
        event = PaymentFailed(
            order_id=payment.order_id,
            payment_id=payment.id,
            user_id=payment.user_id,
            amount=payment.amount,
            reason=result.failure_reason,
        )
    save_fields(payment, "status", "provider_reference", "failure_reason", "in_flight_since", "updated_at")
    # The charge is a fact whatever became of the order; the cart ignores it for an
    # order that is no longer pending.
    publish(event)
    if payment.status == Status.SUCCEEDED and payment.order_cancelled_at is not None:
        _refund_begin(payment)
        return payment, True
    return payment, False


# --- cancelling and refunding ------------------------------------------------------------


@transaction.atomic
def payment_cancel(*, order_id: int, reason: str) -> Payment:
    """The order's stock was rejected: its pending payment will never be charged."""
    payment = _locked_payment_of(order_id)
    if payment.status == Status.PENDING:
        _cancel(payment, reason=reason)
    return payment


def _cancel(payment: Payment, *, reason: str) -> None:
    payment.status = Status.CANCELLED
    payment.failure_reason = reason[:255]
    payment.save(update_fields=["status", "failure_reason", "updated_at"])


@transaction.atomic
def payment_settle_cancelled_order(*, order_id: int, reason: str) -> Payment:
    """The order will not complete: its payment must end without the money.

    Pending: cancelled, never to be charged. Succeeded: its refund is put in flight
    and asked for once the caller's transaction has committed. Charging: the
    cancellation is remembered, and the charge's answer, when it is recorded, is
    refunded if it was a success. Failed, cancelled or refunded: nothing to give back.
    """
    payment = _locked_payment_of(order_id)
    if payment.order_cancelled_at is None:
        payment.order_cancelled_at = timezone.now()
        payment.save(update_fields=["order_cancelled_at", "updated_at"])
    if payment.status == Status.PENDING:
        _cancel(payment, reason=reason)
    elif payment.status == Status.SUCCEEDED:
        _refund_begin(payment)
        _after_commit(_refund_at_provider, payment.pk, status=Status.REFUNDING)
    return payment


def payment_refund(*, payment_id: int) -> Payment:
    """Refund a succeeded payment on an operator's request (the admin's "Refund"
    action), and answer how it went. Must run outside any transaction."""
    payment = _refund_requested(payment_id=payment_id)
    payment = _refund_at_provider(payment)
    _raise_if_refund_declined(payment)
    return payment


@transaction.atomic(durable=True)
def _refund_requested(*, payment_id: int) -> Payment:
    payment = Payment.objects.select_for_update().filter(pk=payment_id).first()
    if payment is None:
        raise NotFound(f"Payment {payment_id} not found.")
    if payment.status != Status.SUCCEEDED:
        raise Conflict(
            f"Payment {payment_id} is {payment.status}; only a succeeded payment can be refunded.",
            code="not_refundable",
        )
    _refund_begin(payment)
    return payment


def _refund_begin(payment: Payment) -> None:
    """Put the refund of a succeeded, locked payment in flight (committed with the caller's transaction)."""
    payment.status = Status.REFUNDING
    payment.refund_idempotency_key = refund_idempotency_key(payment.order_id)
    payment.in_flight_since = timezone.now()
    payment.save(update_fields=["status", "refund_idempotency_key", "in_flight_since", "updated_at"])


def _refund_at_provider(payment: Payment) -> Payment:
    result = get_provider().refund(
        reference=payment.provider_reference, amount=payment.amount, idempotency_key=payment.refund_idempotency_key
    )
    logger.info("the provider answered the refund %s: %s", payment.refund_idempotency_key, _said(result))
    return _refund_record(payment_id=payment.pk, result=result)


@transaction.atomic(durable=True)
def _refund_record(*, payment_id: int, result: RefundResult) -> Payment:
    payment = _locked(payment_id)
    if payment.status != Status.REFUNDING:
        return payment  # another attempt recorded the provider's (same) answer first
    payment.in_flight_since = None
    if result.succeeded:
        payment.status, payment.refund_reference = Status.REFUNDED, result.reference
        payment.save(update_fields=["status", "refund_reference", "in_flight_since", "updated_at"])
        publish(
            PaymentRefunded(
                order_id=payment.order_id, payment_id=payment.id, user_id=payment.user_id, amount=payment.amount
            )
        )
    else:
        # The money is still with the merchant: back to `succeeded`, saying why, for an operator.
        logger.error(
            "the provider declined the refund of payment %s (order %s): %s",
            payment.pk,
            payment.order_id,
            result.failure_reason,
        )
        payment.status = Status.SUCCEEDED
        payment.failure_reason = f"refund declined: {result.failure_reason}"[:255]
        payment.save(update_fields=["status", "failure_reason", "in_flight_since", "updated_at"])
    return payment


def _raise_if_refund_declined(payment: Payment) -> None:
    # For the operator who asked: the admin's message says why.
    if payment.status == Status.SUCCEEDED:
        raise RefundDeclined(f"The provider declined the refund of payment {payment.id}: {payment.failure_reason}.")


# --- resolving calls left in flight --------------------------------------------------------


def payments_resolve_in_flight(*, now: datetime | None = None, limit: int = 10) -> list[int]:
    """Settle the provider calls left in flight by a crash; returns the payments settled.

    A call still unanswered `PAYMENT_RESOLVE_AFTER_SECONDS` after it was started is
    asked again with its idempotency key, and the answer recorded as the original
    call would have. Asking about a call that is in fact still running is harmless
    (the provider answers both alike and the first answer recorded wins), so the delay
    only spares the provider needless calls; it should exceed a provider call's timeout.

    Each payment is claimed first by moving its `in_flight_since` in one UPDATE that
    only one sweeper can win, so several workers sweep side by side without asking
    twice. A provider that cannot be reached leaves the payment for a later sweep.
    At most `limit` calls per sweep: the job shares the worker's housekeeping thread
    with the outbox relay, and the next sweep takes the rest.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.PAYMENT_RESOLVE_AFTER_SECONDS)
    stale = list(
        Payment.objects.filter(status__in=Payment.IN_FLIGHT, in_flight_since__lte=cutoff)
        .order_by("in_flight_since", "id")
        .values_list("pk", "in_flight_since")[:limit]
    )
    settled = []
    for payment_id, since in stale:
        claimed = Payment.objects.filter(pk=payment_id, status__in=Payment.IN_FLIGHT, in_flight_since=since).update(
            in_flight_since=now
        )
        if not claimed:
            continue  # settled, or taken up by another sweeper, meanwhile
        payment = Payment.objects.get(pk=payment_id)
        logger.info(
            "payment %s (order %s) was left %s; asking the provider again", payment.pk, payment.order_id, payment.status
        )
        try:
            if payment.status == Status.CHARGING:
                _charge_at_provider(payment)
            else:
                _refund_at_provider(payment)
        except Exception:
            logger.exception("payment %s is still in flight: the provider could not be asked", payment.pk)
            continue
        settled.append(payment_id)
    return settled
