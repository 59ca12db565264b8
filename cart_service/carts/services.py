"""Writes of the cart service: the replicas that events keep up to date, and the
carts their owners change. Each runs in one transaction with the events it publishes."""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from commerce_core.databases import direct
from commerce_core.databases.inserts import insert_models
from commerce_core.databases.prepared import prepared
from commerce_core.databases.updates import save_fields
from commerce_core.events.api import publish
from commerce_core.events.contracts.cart import CartLine as CartLinePayload
from commerce_core.events.contracts.cart import CartUpdated
from commerce_core.web.errors import ApplicationError, NotFound

from . import selectors
from .models import Cart, CartItem, ProductReplica
from .selectors import CartContents

# --- replicas, fed by handlers.py ------------------------------------------------------
#
# Every upsert is idempotent in effect (the same event applied twice leaves the same
# row) and tolerant of order: a value is replaced only by one the publisher produced
# later, judged by the envelope's `time`. Publishers stamp it inside the transaction
# that made the change (the catalog after locking the product's row), so for one
# product it follows the order of the changes themselves. (Users are replicated by
# commerce_core.customers, the same way.)


def _is_newer(as_of: datetime, recorded: datetime | None) -> bool:
    return recorded is None or as_of > recorded


@transaction.atomic
def product_replica_record(
    *, product_id: int, as_of: datetime, name: str | None = None, price: Decimal | None = None, stock: int | None = None
) -> None:
    """Store what a catalog event published at `as_of` says of a product.

    An unknown product gets a replica holding just that (say, a price that arrived
    before the product's creation), rather than losing the event: the inbox has
    marked it handled, so it would never come back. When the price moves, the carts
    holding the product are re-announced, since their totals moved with it.
    """
    if _product_replica_record_in_one_statement(
        product_id=product_id, as_of=as_of, name=name, price=price, stock=stock
    ):
        return
    # Every other case (an event that overtook another or was overtaken, a first event
    # other than the creation) locks the row, creating it if need be, and takes from the
    # event only the values newer than the stored ones.
    replica, _ = ProductReplica.objects.select_for_update().get_or_create(product_id=product_id)
    old_price = replica.price
    changed = []
    # Only `catalog.product.created` carries the name, once: nothing to order it against.
    if name is not None and name != replica.name:
        replica.name = name
        changed.append("name")
    if price is not None and _is_newer(as_of, replica.price_as_of):
        replica.price, replica.price_as_of = price, as_of
        changed += ["price", "price_as_of"]
    if stock is not None and _is_newer(as_of, replica.stock_as_of):
        replica.stock, replica.stock_as_of = stock, as_of
        changed += ["stock", "stock_as_of"]
    if changed:
        replica.save(update_fields=[*changed, "updated_at"])
    if old_price is not None and replica.price != old_price:
        _carts_holding_repriced(product_id)


def _product_replica_record_in_one_statement(
    *, product_id: int, as_of: datetime, name: str | None, price: Decimal | None, stock: int | None
) -> bool:
    """Record the common cases in one statement each, without reading the row first;
    returns False, having written nothing, for any other case.

    Order-tolerance is kept by the statements themselves: an UPDATE's WHERE clause
    matches only a stored value older than the event (PostgreSQL re-checks it on the
    newest row version when a concurrent write got there first), and an INSERT fails
    where an earlier-arriving event already made the row. None of them writes
    `is_deleted`, so a tombstone stays one.
    """
    known = ProductReplica.objects.filter(pk=product_id)
    if name is None and price is None and stock is not None:
        # `catalog.product.stock_changed`, published by every reservation: the hot path.
        return _record_newer_stock(product_id=product_id, stock=stock, as_of=as_of)
    if name is None and stock is None and price is not None:
        # `catalog.product.price_changed`. The carts are re-announced only when a stored
        # price actually moves, and an UPDATE cannot say which value it replaced, so this
        # one matches only an older stored price that differs; a first price, or a newer
        # but equal one, goes the long way.
        moved = (
            known.filter(price_as_of__lt=as_of)
            .exclude(price=price)
            .update(price=price, price_as_of=as_of, updated_at=timezone.now())
        )
        if moved:
            _carts_holding_repriced(product_id)
        return bool(moved)
    if name is not None and price is not None and stock is not None:
        # `catalog.product.created`, as a rule the first news of the product.
        try:
            with transaction.atomic():  # a savepoint, so a losing INSERT leaves the transaction usable
                ProductReplica.objects.create(
                    product_id=product_id, name=name, price=price, price_as_of=as_of, stock=stock, stock_as_of=as_of
                )
        except IntegrityError:
            return False
        return True
    return False


def _record_newer_stock(*, product_id: int, stock: int, as_of: datetime) -> bool:
    """`known.filter(Q(stock_as_of__isnull=True) | Q(stock_as_of__lt=as_of)).update(...)`
    in a statement written once per backend: through the ORM, building and compiling
    it cost more CPU than running it, for every order. Each value is converted by
    its field, as the ORM would."""
    database = transaction.get_connection()
    field = ProductReplica._meta.get_field
    as_of_value = field("stock_as_of").get_db_prep_value(as_of, database)
    params = (
        field("stock").get_db_prep_save(stock, database),
        as_of_value,
        field("updated_at").get_db_prep_value(timezone.now(), database),
        field("product_id").get_db_prep_value(product_id, database),
        as_of_value,
    )
    sql = _NEWER_STOCK_SQL.get(database.vendor)
    if sql is None:
        sql = _NEWER_STOCK_SQL[database.vendor] = _newer_stock_sql(database.ops.quote_name)
    return bool(direct.execute(database, sql, params))


#: Per backend: the statement of `_record_newer_stock`.
_NEWER_STOCK_SQL: dict[str, str] = {}


def _newer_stock_sql(quote) -> str:
    column = {
        name: quote(ProductReplica._meta.get_field(name).column)
        for name in ("stock", "stock_as_of", "updated_at", "product_id")
    }
    return (
        f"UPDATE {quote(ProductReplica._meta.db_table)} "
        f"SET {column['stock']} = %s, {column['stock_as_of']} = %s, {column['updated_at']} = %s "
        f"WHERE {column['product_id']} = %s AND ({column['stock_as_of']} IS NULL OR {column['stock_as_of']} < %s)"
    )


def _carts_holding_repriced(product_id: int) -> None:
    """Announce anew each cart holding the product: its total moved with the price."""
    for cart in selectors.carts_holding(product_id=product_id):
        _cart_changed(cart)


@transaction.atomic
def product_replica_mark_deleted(*, product_id: int) -> None:
    """Tombstone the product and take it out of every cart that holds it.

    Deletion is final whatever the order of arrival: later-arriving older events may
    still fill in the tombstone's fields but never make it purchasable again.
    """
    replica, _ = ProductReplica.objects.select_for_update().get_or_create(
        product_id=product_id, defaults={"is_deleted": True}
    )
    if not replica.is_deleted:
        replica.is_deleted = True
        replica.save(update_fields=["is_deleted", "updated_at"])
    carts = selectors.carts_holding(product_id=product_id)
    CartItem.objects.filter(product_id=product_id).delete()
    for cart in carts:
        _cart_changed(cart)


# --- carts, changed through the API -----------------------------------------------------


def _invalid(field: str, message: str) -> ApplicationError:
    """A business-rule failure reported like a serializer's field error."""
    return ApplicationError("Invalid input.", code="validation_error", fields={field: [message]})


# The reads of every add-to-cart and checkout, compiled once per connection.


@prepared
def _product(product_id: int) -> QuerySet[ProductReplica]:
    return ProductReplica.objects.filter(pk=product_id)[:1]


@prepared
def locked_cart_of(user_id: int) -> QuerySet[Cart]:
    """The user's cart, locked (on PostgreSQL; SQLite's transaction holds the file)."""
    return Cart.objects.select_for_update().filter(user_id=user_id)[:1]


@prepared
def _item(cart_id: int, product_id: int) -> QuerySet[CartItem]:
    return CartItem.objects.filter(cart_id=cart_id, product_id=product_id)[:1]


def _locked_cart(user_id: int) -> Cart:
    """The user's cart, locked; made on the user's first add."""
    cart = locked_cart_of.first(user_id=user_id)
    if cart is None:
        cart, _ = Cart.objects.select_for_update().get_or_create(user_id=user_id)
    return cart


def _purchasable_product(product_id: int) -> ProductReplica:
    product = _product.first(product_id=product_id)
    if product is None or not product.is_purchasable:
        raise _invalid("product_id", f"Unknown product {product_id}.")
    return product


def _check_quantity(product: ProductReplica, quantity: int, *, already_in_cart: int = 0) -> None:
    """`quantity` of `product`, on top of what the cart already holds, must be positive and in stock."""
    if quantity < 1:
        raise _invalid("quantity", "Ensure this value is greater than or equal to 1.")
    if already_in_cart + quantity > product.stock:
        held = f" (the cart already holds {already_in_cart})" if already_in_cart else ""
        raise _invalid("quantity", f"Only {product.stock} in stock{held}.")


def _item_in_cart(*, user_id: int, product_id: int) -> CartItem:
    item = (
        CartItem.objects.select_for_update()
        .select_related("cart", "product")
        .filter(cart__user_id=user_id, product_id=product_id)
        .first()
    )
    if item is None:
        raise NotFound(f"Product {product_id} is not in the cart.")
    return item


def _cart_changed(cart: Cart) -> CartContents:
    """Touch the cart and announce its new contents to its owner."""
    save_fields(cart, "updated_at")
    contents = selectors.cart_contents(user_id=cart.user_id)
    publish(
        CartUpdated(
            user_id=contents.user_id,
            items=[
                CartLinePayload(product_id=line.product_id, quantity=line.quantity, unit_price=line.unit_price)
                for line in contents.items
            ],
            total=contents.total,
        )
    )
    return contents


@transaction.atomic
def cart_item_add(*, user_id: int, product_id: int, quantity: int) -> CartContents:
    """Put `quantity` of a product in the user's cart, on top of any already there."""
    product = _purchasable_product(product_id)
    cart = _locked_cart(user_id)
    item = _item.first(cart_id=cart.pk, product_id=product.pk)
    already = item.quantity if item else 0
    _check_quantity(product, quantity, already_in_cart=already)
    if item is None:
        insert_models([CartItem(cart=cart, product=product, quantity=quantity)])
    else:
        item.quantity = already + quantity
        save_fields(item, "quantity")
    return _cart_changed(cart)


@transaction.atomic
def cart_item_set_quantity(*, user_id: int, product_id: int, quantity: int) -> CartContents:
    item = _item_in_cart(user_id=user_id, product_id=product_id)
    _check_quantity(item.product, quantity)
    if item.quantity == quantity:
        return selectors.cart_contents(user_id=user_id)  # nothing changed, nothing to announce
    item.quantity = quantity
    item.save(update_fields=["quantity"])
    return _cart_changed(item.cart)


@transaction.atomic
def cart_item_remove(*, user_id: int, product_id: int) -> CartContents:
    item = _item_in_cart(user_id=user_id, product_id=product_id)
    item.delete()
    return _cart_changed(item.cart)


# --- carts, changed by the checkout saga -------------------------------------------------


def cart_items_ordered(*, cart: Cart, items: list[CartItem]) -> CartContents:
    """The lines checkout ordered leave the cart with their order, so that the cart
    is ordered once; the owner is told it is empty.

    Runs in checkout's transaction (orders.services.order_place), which locked the
    cart and read `items`, every line it holds, under that lock: nothing else can be
    in it, so it is neither locked nor read again here."""
    CartItem.objects.filter(pk__in=[item.pk for item in items]).delete()
    save_fields(cart, "updated_at")
    emptied = CartContents(user_id=cart.user_id, items=[], total=Decimal("0.00"))
    publish(CartUpdated(user_id=cart.user_id, items=[], total=emptied.total))
    return emptied


@transaction.atomic
def cart_items_give_back(*, user_id: int, lines: Iterable[tuple[int, int]]) -> CartContents | None:
    """Put `(product_id, quantity)` pairs back into the user's cart: the lines of an
    order that failed or was cancelled, for the customer to try again.

    They are added to what the cart holds now (the customer may have filled it
    meanwhile). Stock is not checked here, since nothing is sold yet: checkout checks
    it again. A product deleted meanwhile does not come back. Returns the new
    contents, announced to the owner, or None when nothing changed.
    """
    lines = dict(lines)
    products = ProductReplica.objects.filter(pk__in=lines, is_deleted=False).in_bulk()
    if not products:
        return None
    cart = _locked_cart(user_id)
    held = {item.product_id: item for item in CartItem.objects.filter(cart=cart, product_id__in=products)}
    for product_id, quantity in lines.items():
        if product_id not in products:
            continue
        item = held.get(product_id)
        if item is None:
            CartItem.objects.create(cart=cart, product=products[product_id], quantity=quantity)
        else:
            item.quantity += quantity
            item.save(update_fields=["quantity"])
    return _cart_changed(cart)
