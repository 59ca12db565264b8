"""Reads of orders. A customer only ever sees their own."""

from django.db.models import Prefetch, QuerySet

from commerce_core.web.errors import NotFound

from .models import Order


def order_list(*, user_id: int) -> QuerySet[Order]:
    """The user's orders, newest first, each with its lines as a list in `line_list`.

    A list, not the `lines` manager: prefetched into the manager, Django builds a
    filtered queryset for every order to hold its lines (about 30 µs of CPU each,
    0.6 ms of a page of 20 orders), where `to_attr` just sets the list."""
    return (
        Order.objects.filter(user_id=user_id)
        .prefetch_related(Prefetch("lines", to_attr="line_list"))
        .order_by("-created_at", "-id")
    )


def order_get(*, user_id: int, order_id: int) -> Order:
    """The user's order; someone else's is as unknown as a missing one (404, never 403)."""
    order = order_list(user_id=user_id).filter(pk=order_id).first()
    if order is None:
        raise NotFound(f"Order {order_id} not found.")
    return order
