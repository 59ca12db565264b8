"""The payment service's steps of the checkout saga, driven by events as the worker runs them."""

from decimal import Decimal

import pytest

from commerce_core.events.api import Envelope
from commerce_core.events.models import DeadLetter, OutboxMessage
from payments.models import Payment

pytestmark = pytest.mark.django_db


def published(event_type: str) -> list[dict]:
    return [m.envelope["data"] for m in OutboxMessage.objects.filter(event_type=event_type)]


def charges(calls) -> int:
    return sum(1 for method, _ in calls if method == "charge")


def refunds(calls) -> int:
    return sum(1 for method, _ in calls if method == "refund")


def test_a_placed_order_is_recorded_as_a_pending_payment(deliver, order):
    assert deliver(order.placed(token="tok_visa")) == {"status": "done"}

    payment = Payment.objects.get(order_id=order.id)
    assert (payment.user_id, payment.amount, payment.currency, payment.status, payment.payment_token) == (
        order.user_id,
        Decimal("25.00"),
        "usd",
        "pending",
        "tok_visa",
    )
    assert not OutboxMessage.objects.exists()


def test_a_redelivered_order_placed_records_one_payment(deliver, order):
    body = Envelope.wrap(order.placed(), source="cart").to_dict()
    deliver(body)
    deliver(body)
    deliver(order.placed())  # the same order published again under a new event id

    assert Payment.objects.filter(order_id=order.id).count() == 1


def test_reserved_stock_charges_a_visa_card_and_publishes_payment_succeeded(deliver, order, provider_calls):
    deliver(order.placed(token="tok_visa"))
    deliver(order.stock_reserved())

    payment = Payment.objects.get(order_id=order.id)
    assert payment.status == "succeeded"
    assert payment.provider_reference.startswith("ch_sim_")
    assert published("payment.succeeded") == [
        {"order_id": order.id, "payment_id": payment.id, "user_id": order.user_id, "amount": "25.00"}
    ]
    assert provider_calls == [
        (
            "charge",
            {
                "amount": Decimal("25.00"),
                "currency": "usd",
                "token": "tok_visa",
                "idempotency_key": f"order-{order.id}",
            },
        )
    ]


def test_a_declined_card_fails_the_payment_and_publishes_payment_failed(deliver, order):
    deliver(order.placed(token="tok_chargeDeclined"))
    deliver(order.stock_reserved())

    payment = Payment.objects.get(order_id=order.id)
    assert (payment.status, payment.failure_reason) == ("failed", "card_declined")
    assert published("payment.failed") == [
        {
            "order_id": order.id,
            "payment_id": payment.id,
            "user_id": order.user_id,
            "amount": "25.00",
            "reason": "card_declined",
        }
    ]
    assert not published("payment.succeeded")


def test_a_redelivered_stock_reserved_charges_once(deliver, order, provider_calls):
    deliver(order.placed())
    body = Envelope.wrap(order.stock_reserved(), source="catalog").to_dict()

    deliver(body)
    deliver(body)

    assert charges(provider_calls) == 1
    assert len(published("payment.succeeded")) == 1


def test_a_second_stock_reserved_for_the_same_order_under_a_new_event_id_charges_once(deliver, order, provider_calls):
    deliver(order.placed())

    deliver(order.stock_reserved())
    deliver(order.stock_reserved())

    assert charges(provider_calls) == 1
    assert len(published("payment.succeeded")) == 1


def test_stock_reserved_before_the_order_is_known_is_retried_until_it_is(deliver, order, provider_calls):
    body = Envelope.wrap(order.stock_reserved(), source="catalog").to_dict()

    with pytest.raises(deliver.RetryRequested):
        deliver(body)
    assert not Payment.objects.exists()
    assert charges(provider_calls) == 0

    deliver(order.placed())
    assert deliver(body, retries=1) == {"status": "done"}
    assert Payment.objects.get(order_id=order.id).status == "succeeded"
    assert charges(provider_calls) == 1


def test_stock_reserved_for_an_order_that_never_arrives_ends_in_the_dead_letter_store(deliver, order, settings):
    assert deliver(order.stock_reserved(), retries=settings.COMMERCE_EVENTS["MAX_RETRIES"]) == {
        "status": "dead-lettered"
    }

    assert "PaymentNotRecordedYet" in DeadLetter.objects.get().error


def test_rejected_stock_cancels_the_pending_payment_without_charging(deliver, order, provider_calls):
    deliver(order.placed())
    deliver(order.stock_rejected())

    payment = Payment.objects.get(order_id=order.id)
    assert (payment.status, payment.failure_reason) == ("cancelled", "stock rejected: out_of_stock")
    assert provider_calls == []
    assert not OutboxMessage.objects.exists()


def test_stock_reserved_after_the_order_was_cancelled_charges_nothing(deliver, order, provider_calls):
    deliver(order.placed())
    deliver(order.cancelled(reason="timed out"))
    deliver(order.stock_reserved())

    payment = Payment.objects.get(order_id=order.id)
    assert (payment.status, payment.failure_reason) == ("cancelled", "order cancelled: timed out")
    assert provider_calls == []


def test_a_cancelled_order_that_was_charged_is_refunded_once(deliver, order, provider_calls):
    deliver(order.placed())
    deliver(order.stock_reserved())
    cancelled = Envelope.wrap(order.cancelled(), source="cart").to_dict()

    deliver(cancelled)
    deliver(cancelled)
    deliver(order.cancelled())  # and once more under a new event id

    payment = Payment.objects.get(order_id=order.id)
    assert payment.status == "refunded"
    assert payment.refund_reference.startswith("re_sim_")
    assert refunds(provider_calls) == 1
    assert published("payment.refunded") == [
        {"order_id": order.id, "payment_id": payment.id, "user_id": order.user_id, "amount": "25.00"}
    ]


def test_a_cancelled_order_whose_payment_failed_is_left_as_it_is(deliver, order, provider_calls):
    deliver(order.placed(token="tok_chargeDeclined"))
    deliver(order.stock_reserved())
    deliver(order.cancelled(reason="payment failed"))

    assert Payment.objects.get(order_id=order.id).status == "failed"
    assert refunds(provider_calls) == 0
    assert not published("payment.refunded")


def test_a_cancellation_before_the_order_is_known_is_retried(deliver, order):
    with pytest.raises(deliver.RetryRequested):
        deliver(order.cancelled())


def test_the_payment_token_never_leaves_the_service_in_an_event(deliver, order):
    deliver(order.placed(token="tok_visa"))
    deliver(order.stock_reserved())
    deliver(order.cancelled())

    assert all("tok_visa" not in str(m.envelope) for m in OutboxMessage.objects.all())
