"""The saga's events as the cart and the payment service publish them."""

import itertools
from decimal import Decimal

from catalog.models import Product

from commerce_core.events.contracts.cart import CartLine
from commerce_core.events.contracts.orders import OrderCancelled, OrderPlaced
from commerce_core.events.contracts.payments import PaymentSucceeded

_order_ids = itertools.count(1)
BUYER = 77


def order_placed(*lines: tuple[Product | int, int], order_id: int | None = None) -> OrderPlaced:
    """An order of `(product or product id, quantity)` lines, as the cart places it."""
    items = []
    for product, quantity in lines:
        product_id, price = (product.pk, product.price) if isinstance(product, Product) else (product, Decimal("1.00"))
        items.append(CartLine(product_id=product_id, quantity=quantity, unit_price=price))
    return OrderPlaced(
        order_id=order_id or next(_order_ids),
        user_id=BUYER,
        items=items,
        total=sum((line.unit_price * line.quantity for line in items), Decimal("0.00")),
        payment_token="tok_visa",
    )


def payment_succeeded(order: OrderPlaced) -> PaymentSucceeded:
    return PaymentSucceeded(
        order_id=order.order_id, payment_id=order.order_id + 1000, user_id=order.user_id, amount=order.total
    )


def order_cancelled(order: OrderPlaced, reason: str = "payment declined") -> OrderCancelled:
    return OrderCancelled(order_id=order.order_id, user_id=order.user_id, reason=reason)
