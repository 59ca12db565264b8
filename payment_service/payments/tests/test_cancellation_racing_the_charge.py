"""The order's cancellation (its timeout, most often) racing its charge: whichever
wins, the money and the order agree. A cancelled order keeps no money; an order the
cart marks paid (it never publishes `order.cancelled` then) keeps exactly its total.

The cancellation is delivered at each point of the charge's way, as another worker
thread would handle it at that instant: before the charge begins, while the call is
in flight before the provider answers, after it answered but before the answer is
recorded, and after."""

from decimal import Decimal

import pytest

from commerce_core import faults
from commerce_core.events.models import OutboxMessage
from payments import services
from payments.models import Payment
from payments.providers import SimulatedProvider

from .conftest import money_taken
from .test_provider_calls_in_flight import later

pytestmark = pytest.mark.django_db

TOTAL = Decimal("25.00")


class RacingProvider(SimulatedProvider):
    """Runs `before_answer` as a charge arrives at the provider."""

    before_answer = None

    def charge(self, **kwargs):
        if RacingProvider.before_answer:
            hook, RacingProvider.before_answer = RacingProvider.before_answer, None
            hook()
        return super().charge(**kwargs)


@pytest.fixture(autouse=True)
def racing_provider(settings):
    settings.PAYMENT_PROVIDER = f"{__name__}.RacingProvider"
    yield RacingProvider
    RacingProvider.before_answer = None


def cancel_before_the_charge(deliver, order, monkeypatch):
    deliver(order.cancelled())
    deliver(order.stock_reserved())


def cancel_while_the_provider_is_charging(deliver, order, monkeypatch):
    RacingProvider.before_answer = lambda: deliver(order.cancelled())
    deliver(order.stock_reserved())


def cancel_after_the_provider_answered_before_it_is_recorded(deliver, order, monkeypatch):
    def cancel_once(name):
        if name == "payment.after_charge":
            deliver(order.cancelled())

    monkeypatch.setattr(faults, "point", cancel_once)
    deliver(order.stock_reserved())


def cancel_after_the_charge_is_recorded(deliver, order, monkeypatch):
    deliver(order.stock_reserved())
    deliver(order.cancelled())


CANCELLATIONS = [
    cancel_before_the_charge,
    cancel_while_the_provider_is_charging,
    cancel_after_the_provider_answered_before_it_is_recorded,
    cancel_after_the_charge_is_recorded,
]


@pytest.mark.parametrize("token", ["tok_visa", "tok_chargeDeclined"])
@pytest.mark.parametrize("race", CANCELLATIONS, ids=lambda f: f.__name__)
def test_a_cancelled_order_keeps_no_money_wherever_the_cancellation_lands(deliver, order, monkeypatch, race, token):
    deliver(order.placed(token=token))

    race(deliver, order, monkeypatch)
    # Whatever a crash could have left in flight is settled too.
    services.payments_resolve_in_flight(now=later())

    payment = Payment.objects.get(order_id=order.id)
    assert payment.status in ("cancelled", "failed", "refunded")
    assert payment.in_flight_since is None
    assert money_taken(order.id) == 0
    refunded = OutboxMessage.objects.filter(event_type="payment.refunded").count()
    assert refunded == (1 if payment.status == "refunded" else 0)


def test_a_cancellation_that_lands_before_the_charge_charges_nothing(deliver, order, monkeypatch):
    deliver(order.placed())
    cancel_before_the_charge(deliver, order, monkeypatch)

    assert Payment.objects.get(order_id=order.id).status == "cancelled"
    assert not OutboxMessage.objects.filter(event_type="payment.succeeded").exists()


@pytest.mark.parametrize("race", CANCELLATIONS[1:], ids=lambda f: f.__name__)
def test_a_cancellation_that_lands_once_the_card_is_charged_refunds_it_and_tells_so(deliver, order, monkeypatch, race):
    deliver(order.placed())
    race(deliver, order, monkeypatch)

    # The charge happened, so it is announced, and so is its refund.
    assert Payment.objects.get(order_id=order.id).status == "refunded"
    assert [m.event_type for m in OutboxMessage.objects.order_by("created_at")] == [
        "payment.succeeded",
        "payment.refunded",
    ]


def test_an_order_that_is_not_cancelled_keeps_exactly_its_total(deliver, order):
    deliver(order.placed())
    deliver(order.stock_reserved())
    services.payments_resolve_in_flight(now=later())

    assert Payment.objects.get(order_id=order.id).status == "succeeded"
    assert money_taken(order.id) == TOTAL
