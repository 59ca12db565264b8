"""Reads of carts."""

from dataclasses import dataclass
from decimal import Decimal

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


def cart_contents(*, user_id: int) -> CartContents:
    """The user's cart; a user who never added anything has an empty one."""
    items = CartItem.objects.filter(cart__user_id=user_id).select_related("product").order_by("id")
    lines = [
        CartLine(product_id=item.product_id, quantity=item.quantity, unit_price=item.product.price) for item in items
    ]
    total = sum((line.unit_price * line.quantity for line in lines), Decimal("0.00"))
    return CartContents(user_id=user_id, items=lines, total=total)


def carts_holding(*, product_id: int) -> list[Cart]:
    return list(Cart.objects.filter(items__product_id=product_id).distinct().order_by("id"))
