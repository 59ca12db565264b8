import itertools
from decimal import Decimal

import pytest

from commerce_core.events.broker_base import Sent
from commerce_core.events.contracts.cart import CartLine
from commerce_core.events.contracts.inventory import StockRejected, StockReserved
from commerce_core.events.contracts.orders import OrderCancelled, OrderPlaced
from payments.providers import SimulatedProvider, read_ledger

_order_ids = itertools.count(1_000)

TOTAL = Decimal("25.00")
ITEMS = [CartLine(product_id=7, quantity=2, unit_price=Decimal("12.50"))]


@pytest.fixture(autouse=True)
def provider_ledger(settings, tmp_path):
    """Every test gets a simulated provider of its own: a fresh ledger file."""
    settings.SIMULATED_PROVIDER_LEDGER = str(tmp_path / "simulated-provider.sqlite3")
    return settings.SIMULATED_PROVIDER_LEDGER


def money_taken(order_id: int) -> Decimal:
    """What the provider's ledger says the order's customer paid: charges minus refunds."""
    ledger = read_ledger()
    charges = {
        e.reference: e.amount
        for e in ledger
        if e.kind == "charge" and e.succeeded and e.idempotency_key == f"order-{order_id}"
    }
    refunds = sum(
        (e.amount for e in ledger if e.kind == "refund" and e.succeeded and e.charge_reference in charges),
        Decimal("0.00"),
    )
    return sum(charges.values(), Decimal("0.00")) - refunds


@pytest.fixture
def bus_offline(monkeypatch):
    """For tests that commit for real: the outbox's sends stay here instead of reaching the broker."""
    sent = []

    def keep(envelopes):
        sent.extend(envelopes)
        return Sent([None] * len(envelopes))

    monkeypatch.setattr("commerce_core.events.outbox.send_many", keep)
    return sent


@pytest.fixture
def deliver(deliver, django_capture_on_commit_callbacks):
    """The plugin's `deliver`, then what the worker does once the delivery has
    committed: the provider calls services.py scheduled for after the commit. (The
    outbox's sends stay captured, not run.)"""

    def run(event, **options):
        outcome = retry = None
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            try:
                outcome = deliver(event, **options)
            except deliver.RetryRequested as requested:  # the other handlers' effects committed
                retry = requested
        for callback in callbacks:
            if getattr(callback, "__module__", "") == "payments.services":
                callback()
        if retry is not None:
            raise retry
        return outcome

    run.RetryRequested = deliver.RetryRequested
    return run


@pytest.fixture
def no_faults():
    """Fault points configured by a test are cleared after it."""
    from commerce_core import faults

    yield faults
    faults.configure("")


class CountingProvider(SimulatedProvider):
    """The simulated provider, counting the calls that reach it."""

    calls: list[tuple[str, dict]] = []

    def charge(self, **kwargs):
        self.calls.append(("charge", kwargs))
        return super().charge(**kwargs)

    def refund(self, **kwargs):
        self.calls.append(("refund", kwargs))
        return super().refund(**kwargs)


@pytest.fixture
def provider_calls(settings):
    """Makes the services use CountingProvider; the list of (method, arguments) it received."""
    settings.PAYMENT_PROVIDER = f"{__name__}.CountingProvider"
    CountingProvider.calls = []
    return CountingProvider.calls


@pytest.fixture
def order_factory(principal_factory):
    """Makes new orders; each gives its events as cart and catalog would publish them."""

    class Order:
        def __init__(self):
            self.id = next(_order_ids)
            self.user_id = principal_factory().id

        def placed(self, token: str = "tok_visa") -> OrderPlaced:
            return OrderPlaced(order_id=self.id, user_id=self.user_id, items=ITEMS, total=TOTAL, payment_token=token)

        def stock_reserved(self) -> StockReserved:
            return StockReserved(order_id=self.id, user_id=self.user_id, items=ITEMS, total=TOTAL)

        def stock_rejected(self) -> StockRejected:
            return StockRejected(
                order_id=self.id, user_id=self.user_id, reason="out_of_stock", unavailable_product_ids=[7]
            )

        def cancelled(self, reason: str = "timed out") -> OrderCancelled:
            return OrderCancelled(order_id=self.id, user_id=self.user_id, reason=reason)

    return Order


@pytest.fixture
def order(order_factory):
    """A new order's events, as cart and catalog would publish them."""
    return order_factory()
