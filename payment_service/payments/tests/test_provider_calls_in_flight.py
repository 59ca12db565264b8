"""Money survives a crash at any line: every provider call is committed as in flight
before it is made, and the worker's resolver settles what a crash left in flight by
asking the provider again with the same idempotency key.

A crash is simulated by raising a BaseException at the chosen line: like a killed
process, it runs no retry accounting and no code after it, and the transaction it
interrupts rolls back; the simulated provider's ledger, another system, keeps what it did.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from commerce_core import faults
from commerce_core.events.models import OutboxMessage
from commerce_core.events.periodic import registered_jobs
from payments import jobs, services
from payments.models import Payment
from payments.providers import SimulatedProvider, read_ledger

from .conftest import money_taken

pytestmark = pytest.mark.django_db

TOTAL = Decimal("25.00")


class Crash(BaseException):
    """The worker dies here."""


class HookedProvider(SimulatedProvider):
    """The simulated provider with a hook run as a call arrives, before it is served."""

    on_call = None
    calls: list[str] = []

    def charge(self, **kwargs):
        self.calls.append("charge")
        if HookedProvider.on_call:
            HookedProvider.on_call("charge")
        return super().charge(**kwargs)

    def refund(self, **kwargs):
        self.calls.append("refund")
        if HookedProvider.on_call:
            HookedProvider.on_call("refund")
        return super().refund(**kwargs)


@pytest.fixture
def provider(settings):
    settings.PAYMENT_PROVIDER = f"{__name__}.HookedProvider"
    HookedProvider.on_call, HookedProvider.calls = None, []
    yield HookedProvider
    HookedProvider.on_call = None


def crash_once_at(name):
    """A hook that raises Crash the first time it is called with `name` (a provider
    operation, or a fault point)."""
    state = {"crashed": False}

    def hook(called, *args):
        if called == name and not state["crashed"]:
            state["crashed"] = True
            raise Crash(f"killed at {name}")

    return hook


def later(seconds=None):
    """A moment when every call in flight now is overdue for the resolver."""
    from django.conf import settings

    return timezone.now() + timedelta(seconds=(seconds or settings.PAYMENT_RESOLVE_AFTER_SECONDS) + 1)


def published(event_type):
    return [m.envelope["data"] for m in OutboxMessage.objects.filter(event_type=event_type)]


def status_of(order):
    return Payment.objects.get(order_id=order.id).status


# --- the crash points ------------------------------------------------------------------------


def crash_while_recording_the_charge_in_flight(monkeypatch, provider):
    original = services.save_fields

    def save_fields(*args, **kwargs):
        monkeypatch.setattr(services, "save_fields", original)
        raise Crash("killed while recording the charge in flight")

    monkeypatch.setattr(services, "save_fields", save_fields)


def crash_before_the_provider_is_called(monkeypatch, provider):
    provider.on_call = crash_once_at("charge")


def crash_after_the_provider_charged(monkeypatch, provider):
    monkeypatch.setattr(faults, "point", crash_once_at("payment.after_charge"))


def crash_while_recording_the_providers_answer(monkeypatch, provider):
    def publish(event):
        monkeypatch.undo()
        raise Crash("killed before the answer committed")

    monkeypatch.setattr(services, "publish", publish)


CHARGE_CRASHES = [
    crash_while_recording_the_charge_in_flight,
    crash_before_the_provider_is_called,
    crash_after_the_provider_charged,
    crash_while_recording_the_providers_answer,
]


@pytest.mark.parametrize("crash", CHARGE_CRASHES, ids=lambda f: f.__name__)
def test_a_charge_interrupted_by_a_crash_ends_succeeded_with_one_charge(deliver, order, provider, monkeypatch, crash):
    deliver(order.placed())
    crash(monkeypatch, provider)

    with pytest.raises(Crash):
        deliver(order.stock_reserved())

    left = status_of(order)
    assert left == ("pending" if crash is crash_while_recording_the_charge_in_flight else "charging")
    assert not published("payment.succeeded")
    if left == "pending":
        # Nothing was committed: the bus redelivers the event, which charges.
        deliver(order.stock_reserved())
    else:
        # Committed in flight: the resolver settles it long before the bus's redelivery.
        assert Payment.objects.get(order_id=order.id).charge_idempotency_key == f"order-{order.id}"
        assert services.payments_resolve_in_flight(now=later()) == [Payment.objects.get(order_id=order.id).pk]

    assert status_of(order) == "succeeded"
    assert len(published("payment.succeeded")) == 1
    assert money_taken(order.id) == TOTAL
    assert [e.kind for e in read_ledger()] == ["charge"]
    # The bus's late redelivery of the interrupted event changes nothing.
    deliver(order.stock_reserved())
    assert (status_of(order), len(published("payment.succeeded")), money_taken(order.id)) == ("succeeded", 1, TOTAL)


@pytest.mark.parametrize("crash", CHARGE_CRASHES[1:], ids=lambda f: f.__name__)
def test_a_charge_interrupted_by_a_crash_of_an_order_cancelled_meanwhile_is_refunded(
    deliver, order, provider, monkeypatch, crash
):
    deliver(order.placed())
    crash(monkeypatch, provider)
    with pytest.raises(Crash):
        deliver(order.stock_reserved())

    # The order times out while its charge is in flight: the cancellation is noted...
    deliver(order.cancelled(reason="timed out"))
    payment = Payment.objects.get(order_id=order.id)
    assert (payment.status, payment.order_cancelled_at is not None) == ("charging", True)
    # ...and the resolver's answer, a success, is refunded at once.
    services.payments_resolve_in_flight(now=later())

    assert status_of(order) == "refunded"
    assert money_taken(order.id) == 0
    assert [(e.kind, e.succeeded) for e in read_ledger()] == [("charge", True), ("refund", True)]
    assert len(published("payment.refunded")) == 1


def test_a_declined_charge_interrupted_by_a_crash_ends_failed_without_a_refund(deliver, order, provider, monkeypatch):
    deliver(order.placed(token="tok_chargeDeclined"))
    crash_after_the_provider_charged(monkeypatch, provider)
    with pytest.raises(Crash):
        deliver(order.stock_reserved())
    deliver(order.cancelled())

    services.payments_resolve_in_flight(now=later())

    assert status_of(order) == "failed"
    assert money_taken(order.id) == 0
    assert published("payment.failed")[0]["reason"] == "card_declined"
    assert "refund" not in provider.calls


# --- refunds -------------------------------------------------------------------------------


def crash_before_the_provider_refunds(monkeypatch, provider):
    provider.on_call = crash_once_at("refund")


def crash_after_the_provider_refunded(monkeypatch, provider):
    original = services._refund_record

    def record(**kwargs):
        monkeypatch.setattr(services, "_refund_record", original)
        raise Crash("killed after the provider refunded")

    monkeypatch.setattr(services, "_refund_record", record)


@pytest.mark.parametrize(
    "crash",
    [crash_before_the_provider_refunds, crash_after_the_provider_refunded, crash_while_recording_the_providers_answer],
    ids=lambda f: f.__name__,
)
def test_a_refund_interrupted_by_a_crash_is_refunded_once(deliver, order, provider, monkeypatch, crash):
    deliver(order.placed())
    deliver(order.stock_reserved())
    crash(monkeypatch, provider)

    with pytest.raises(Crash):
        deliver(order.cancelled())

    assert status_of(order) == "refunding"
    services.payments_resolve_in_flight(now=later())
    assert status_of(order) == "refunded"
    assert money_taken(order.id) == 0
    assert [(e.kind, e.succeeded) for e in read_ledger()] == [("charge", True), ("refund", True)]
    assert len(published("payment.refunded")) == 1
    deliver(order.cancelled())  # the bus's late redelivery
    assert (status_of(order), len(published("payment.refunded"))) == ("refunded", 1)


# --- the resolver ----------------------------------------------------------------------------


def test_the_resolver_is_a_periodic_job_of_the_worker():
    assert "payments.jobs.resolve_payments_left_in_flight" in {job.name for job in registered_jobs()}


def test_the_resolver_leaves_a_call_that_is_still_young(deliver, order, provider, monkeypatch):
    deliver(order.placed())
    crash_after_the_provider_charged(monkeypatch, provider)
    with pytest.raises(Crash):
        deliver(order.stock_reserved())

    assert services.payments_resolve_in_flight() == []
    jobs.resolve_payments_left_in_flight()
    assert status_of(order) == "charging"


def test_the_resolver_leaves_settled_and_pending_payments_alone(deliver, order, provider, order_factory):
    deliver(order.placed())
    deliver(order.stock_reserved())
    pending = order_factory()
    deliver(pending.placed())
    provider.calls.clear()

    assert services.payments_resolve_in_flight(now=later()) == []
    assert provider.calls == []


def test_a_provider_that_cannot_be_reached_leaves_the_charge_in_flight_for_the_resolver(deliver, order, provider):
    def unreachable(operation):
        raise ConnectionError("provider unreachable")

    deliver(order.placed())
    provider.on_call = unreachable

    # The handler's part (the call in flight) is done; the call itself failed after it.
    assert deliver(order.stock_reserved()) == {"status": "done"}
    assert status_of(order) == "charging"
    assert services.payments_resolve_in_flight(now=later()) == []  # still unreachable
    assert status_of(order) == "charging"

    provider.on_call = None
    assert services.payments_resolve_in_flight(now=later(60)) == [Payment.objects.get(order_id=order.id).pk]
    assert (status_of(order), money_taken(order.id)) == ("succeeded", TOTAL)


def test_an_event_redelivered_while_its_charge_is_in_flight_leaves_the_call_to_the_resolver(
    deliver, order, provider, monkeypatch
):
    deliver(order.placed())
    crash_after_the_provider_charged(monkeypatch, provider)
    with pytest.raises(Crash):
        deliver(order.stock_reserved())

    deliver(order.stock_reserved())
    assert (status_of(order), provider.calls) == ("charging", ["charge"])

    services.payments_resolve_in_flight(now=later())
    assert status_of(order) == "succeeded"
    # Asked twice with one key, the provider charged once.
    assert provider.calls == ["charge", "charge"]
    assert [e.kind for e in read_ledger()] == ["charge"]


# --- committed before the call, called outside any transaction ------------------------------


class WitnessProvider(SimulatedProvider):
    """Notes, as each call arrives, whether a transaction is open and what is committed."""

    seen: list[tuple] = []

    def charge(self, **kwargs):
        payment = Payment.objects.get(charge_idempotency_key=kwargs["idempotency_key"])
        self.seen.append(("charge", connection.in_atomic_block, payment.status, payment.in_flight_since is not None))
        return super().charge(**kwargs)

    def refund(self, **kwargs):
        payment = Payment.objects.get(refund_idempotency_key=kwargs["idempotency_key"])
        self.seen.append(("refund", connection.in_atomic_block, payment.status, payment.in_flight_since is not None))
        return super().refund(**kwargs)


@pytest.mark.django_db(transaction=True)
def test_the_provider_is_called_outside_any_transaction_once_the_call_is_committed_in_flight(
    deliver, order, settings, bus_offline
):
    # A transactional test: no test transaction around it, so "outside any transaction"
    # and "committed" mean what they say.
    settings.PAYMENT_PROVIDER = f"{__name__}.WitnessProvider"
    WitnessProvider.seen = []

    deliver(order.placed())
    deliver(order.stock_reserved())
    deliver(order.cancelled())

    assert WitnessProvider.seen == [("charge", False, "charging", True), ("refund", False, "refunding", True)]
    assert status_of(order) == "refunded"
    assert [m.event_type for m in OutboxMessage.objects.order_by("created_at")] == [
        "payment.succeeded",
        "payment.refunded",
    ]


def test_the_provider_is_asked_only_once_the_callers_transaction_has_committed(
    order, provider_calls, django_capture_on_commit_callbacks
):
    from django.db import transaction

    services.payment_record(order_id=order.id, user_id=order.user_id, amount=TOTAL, payment_token="tok_visa")
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():  # a batch of events, say
            services.payment_charge(order_id=order.id)
            assert (status_of(order), provider_calls) == ("charging", [])
        # committed: now the provider is asked
    assert [method for method, _ in provider_calls] == ["charge"]
    assert status_of(order) == "succeeded"


def test_recording_an_answer_or_an_operators_refund_refuses_to_run_inside_a_callers_transaction(deliver, order):
    from django.db import transaction

    deliver(order.placed())
    deliver(order.stock_reserved())
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        services.payment_refund(payment_id=Payment.objects.get(order_id=order.id).pk)
    assert status_of(order) == "succeeded"
    assert money_taken(order.id) == TOTAL


# --- the fault points, as the drills and the crash tests use them -------------------------------


@pytest.mark.parametrize(
    ("point", "charged_before_the_resolver"), [("payment.before_charge", False), ("payment.after_charge", True)]
)
def test_a_fault_on_either_side_of_the_charge_leaves_it_in_flight_for_the_resolver(
    deliver, order, no_faults, point, charged_before_the_resolver
):
    deliver(order.placed())
    no_faults.configure(f"{point}=fail")

    deliver(order.stock_reserved())

    assert status_of(order) == "charging"
    assert money_taken(order.id) == (TOTAL if charged_before_the_resolver else 0)
    no_faults.configure("")
    services.payments_resolve_in_flight(now=later())
    assert (status_of(order), money_taken(order.id)) == ("succeeded", TOTAL)
