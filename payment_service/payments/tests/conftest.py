import itertools
from decimal import Decimal

import pytest

from commerce_core.events.contracts.cart import CartLine
from commerce_core.events.contracts.inventory import StockRejected, StockReserved
from commerce_core.events.contracts.orders import OrderCancelled, OrderPlaced
from payments.providers import SimulatedProvider

_order_ids = itertools.count(1_000)

TOTAL = Decimal("25.00")
ITEMS = [CartLine(product_id=7, quantity=2, unit_price=Decimal("12.50"))]


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
def order(principal_factory):
    """A new order's events, as cart and catalog would publish them."""

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

    return Order()
