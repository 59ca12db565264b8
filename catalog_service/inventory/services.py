"""Writes of the inventory: reserving, committing and releasing the stock of orders.

Every function is called by an event handler, so it runs once per event id (the
inbox). On top of that each is idempotent per order: a reservation is decided once
(its `order_id` is unique) and each transition checks the status under a row lock,
so a second event about the same order, even under another event id, changes nothing.

Products are always locked in id order. Two orders competing for the same products
therefore queue up on the first product they share instead of deadlocking, and each
one sees the stock the previous one left: stock is never oversold.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal

from catalog.models import Product
from django.db import transaction
from django.db.models import QuerySet

from commerce_core.databases.inserts import insert_models
from commerce_core.databases.prepared import prepared
from commerce_core.databases.updates import save_fields
from commerce_core.events.api import publish
from commerce_core.events.contracts.cart import CartLine
from commerce_core.events.contracts.catalog import ProductStockChanged
from commerce_core.events.contracts.inventory import StockRejected, StockReserved

from .models import StockReservation, StockReservationLine

logger = logging.getLogger(__name__)


# The reservation's reads of every order's steps, compiled once per connection.


@prepared
def _reservation_of(order_id: int) -> QuerySet[StockReservation]:
    return StockReservation.objects.filter(order_id=order_id)[:1]


@prepared
def _locked_reservation_of(order_id: int) -> QuerySet[StockReservation]:
    return StockReservation.objects.select_for_update().filter(order_id=order_id)[:1]


def _quantities_by_product(lines: Iterable) -> dict[int, int]:
    """Total quantity per product id, in case an order names a product on two lines."""
    quantities: dict[int, int] = defaultdict(int)
    for line in lines:
        quantities[line.product_id] += line.quantity
    return dict(quantities)


@prepared
def _locked_product(product_id: int) -> QuerySet[Product]:
    return Product.objects.select_for_update().filter(pk=product_id)[:1]


def _lock_products(product_ids: Iterable[int]) -> dict[int, Product]:
    """Lock the products that still exist, in id order (see the module docstring).

    One statement per product, each compiled once per connection: an order holds a
    few products, and `pk__in` of a list is a new query to build for every order."""
    locked = (_locked_product.first(product_id=product_id) for product_id in sorted(set(product_ids)))
    return {product.pk: product for product in locked if product is not None}


def _shortfall(product: Product | None, product_id: int, quantity: int) -> str | None:
    """Why `quantity` of the product cannot be reserved, or None when it can."""
    if quantity < 1:
        return f"product {product_id}: invalid quantity {quantity}"
    if product is None:
        return f"product {product_id}: no longer sold"
    if not product.is_active:
        return f"product {product_id}: not on sale"
    if product.stock < quantity:
        return f"product {product_id}: {quantity} wanted, {product.stock} in stock"
    return None


def _change_stock(product: Product, delta: int) -> None:
    product.stock += delta
    save_fields(product, "stock", "updated_at")
    publish(ProductStockChanged(product_id=product.pk, stock=product.stock))


@transaction.atomic
def stock_reserve_for_order(
    *, order_id: int, user_id: int, items: Sequence[CartLine], total: Decimal
) -> StockReservation:
    """Reserve every line of a placed order, or none of them.

    Reserved: each product's stock goes down, and StockReserved plus one
    ProductStockChanged per product are published. Otherwise the reservation is stored
    as rejected, no stock moves and StockRejected names the products that fell short.
    An order already decided (or cancelled before it got here) is left as it is.
    """
    existing = _reservation_of.first(order_id=order_id)
    if existing is not None:
        logger.info("order %s already has a %s reservation; nothing to do", order_id, existing.status)
        return existing

    wanted = _quantities_by_product(items)
    products = _lock_products(wanted)
    shortfalls = {
        product_id: reason
        for product_id, quantity in sorted(wanted.items())
        if (reason := _shortfall(products.get(product_id), product_id, quantity))
    }

    reservation = StockReservation(order_id=order_id, user_id=user_id, total=total)
    if not wanted:
        reservation.status, reservation.reason = StockReservation.Status.REJECTED, "The order has no lines."
    elif shortfalls:
        reservation.status = StockReservation.Status.REJECTED
        reservation.reason = ("Not available: " + "; ".join(shortfalls.values()) + ".")[:500]
        reservation.unavailable_product_ids = list(shortfalls)
    else:
        reservation.status = StockReservation.Status.RESERVED
        for product_id, quantity in sorted(wanted.items()):
            _change_stock(products[product_id], -quantity)
    insert_models([reservation])
    insert_models(
        StockReservationLine(
            reservation=reservation, product_id=line.product_id, quantity=line.quantity, unit_price=line.unit_price
        )
        for line in items
    )

    if reservation.status == StockReservation.Status.RESERVED:
        publish(StockReserved(order_id=order_id, user_id=user_id, items=list(items), total=total))
    else:
        publish(
            StockRejected(
                order_id=order_id,
                user_id=user_id,
                reason=reservation.reason,
                unavailable_product_ids=reservation.unavailable_product_ids,
            )
        )
    return reservation


@transaction.atomic
def stock_reservation_commit(*, order_id: int) -> StockReservation | None:
    """The order is paid: its reserved stock is sold for good. Any other state stays."""
    reservation = _locked_reservation_of.first(order_id=order_id)
    if reservation is None:
        # Cannot happen in the saga (a payment follows stock.reserved); nothing to commit.
        logger.warning("payment for order %s without a stock reservation; nothing to commit", order_id)
        return None
    if reservation.status == StockReservation.Status.RESERVED:
        reservation.status = StockReservation.Status.COMMITTED
        save_fields(reservation, "status", "updated_at")
    return reservation


@transaction.atomic
def stock_release_for_order(*, order_id: int, user_id: int, reason: str) -> StockReservation:
    """The order will not complete: give its stock back and announce each product's new stock.

    A committed reservation is released too. The cart cancels only orders that are
    still pending, so a cancelled order is never a paid one; a payment that succeeded
    while the order was timing out is refunded by the payment service, and the stock
    it took must come back with it.

    A cancellation that overtakes its order's placement (say order.placed is still
    being retried when the timeout fires) leaves a released reservation without lines,
    so the late order.placed finds the order decided and reserves nothing.
    """
    reservation = _locked_reservation_of.first(order_id=order_id)
    if reservation is None:
        return StockReservation.objects.create(
            order_id=order_id,
            user_id=user_id,
            status=StockReservation.Status.RELEASED,
            reason=f"Cancelled before it was placed: {reason}"[:500],
        )
    if reservation.status not in (StockReservation.Status.RESERVED, StockReservation.Status.COMMITTED):
        return reservation

    held = _quantities_by_product(reservation.lines.all())
    products = _lock_products(held)
    for product_id, quantity in sorted(held.items()):
        if product_id in products:  # a product deleted meanwhile has no stock to get back
            _change_stock(products[product_id], quantity)
    reservation.status = StockReservation.Status.RELEASED
    reservation.reason = reason[:500]
    reservation.save(update_fields=["status", "reason", "updated_at"])
    return reservation
