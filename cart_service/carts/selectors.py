"""Reads of carts."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet

from commerce_core.databases.prepared import prepared

from .models import Cart, CartItem


@dataclass(frozen=True)
class CartLine:
    product_id: int
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class CartContents:
    """A cart as its owner sees it, priced at the products' current prices."""

    user_id: int
    items: list[CartLine]
    total: Decimal


@prepared
def _cart_lines(user_id: int) -> QuerySet[CartItem]:
    # Just the three values a line shows: loading the items and their replicas as
    # models cost 0.4 ms of CPU for a cart of three lines, these 0.27 ms; and
    # compiled once (commerce_core.databases.prepared), since every change of a cart
    # reads it again.
    return (
        CartItem.objects.filter(cart__user_id=user_id)
        .order_by("id")
        .values_list("product_id", "quantity", "product__price")
    )


def cart_contents(*, user_id: int) -> CartContents:
    """The user's cart; a user who never added anything has an empty one."""
    rows = _cart_lines.all(user_id=user_id)
    lines = [
        CartLine(product_id=product_id, quantity=quantity, unit_price=price) for product_id, quantity, price in rows
    ]
    total = sum((line.unit_price * line.quantity for line in lines), Decimal("0.00"))
    return CartContents(user_id=user_id, items=lines, total=total)


def carts_holding(*, product_id: int) -> list[Cart]:
    return list(Cart.objects.filter(items__product_id=product_id).distinct().order_by("id"))
