"""Reads of orders. A customer only ever sees their own."""

from django.db.models import QuerySet

from commerce_core.web.errors import NotFound

from .models import Order


def order_list(*, user_id: int) -> QuerySet[Order]:
    """The user's orders, newest first, with their lines."""
    return Order.objects.filter(user_id=user_id).prefetch_related("lines").order_by("-created_at", "-id")


def order_get(*, user_id: int, order_id: int) -> Order:
    """The user's order; someone else's is as unknown as a missing one (404, never 403)."""
    order = order_list(user_id=user_id).filter(pk=order_id).first()
    if order is None:
        raise NotFound(f"Order {order_id} not found.")
    return order
