"""Writes of the catalog. Each runs in one transaction with the events it publishes."""

import logging
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.utils.text import slugify

from commerce_core.events.api import publish
from commerce_core.events.contracts.catalog import (
    ProductCreated,
    ProductDeleted,
    ProductPriceChanged,
    ProductStockChanged,
)
from commerce_core.web.errors import ApplicationError, Conflict

from .models import Category, Product

logger = logging.getLogger(__name__)

# --- products -------------------------------------------------------------------------


@transaction.atomic
def product_create(
    *,
    name: str,
    price: Decimal,
    stock: int = 0,
    description: str = "",
    category: Category | None = None,
    is_active: bool = True,
) -> Product:
    product = Product(
        name=name, price=price, stock=stock, description=description, category=category, is_active=is_active
    )
    product.full_clean()
    product.save()
    publish(ProductCreated(product_id=product.id, name=product.name, price=product.price, stock=product.stock))
    return product


@transaction.atomic
def product_update(*, product_id: int, **changes) -> Product:
    """Apply `changes` (any of the writable fields) and announce what buyers see move.

    The row is locked first, so the events' publication times follow the order of the
    changes themselves (replicas in other services rely on that to order them)."""
    product = Product.objects.select_for_update().get(pk=product_id)
    old_price, old_stock = product.price, product.stock
    for field, value in changes.items():
        setattr(product, field, value)
    product.full_clean()
    product.save()
    if product.price != old_price:
        publish(ProductPriceChanged(product_id=product.id, old_price=old_price, price=product.price))
    if product.stock != old_stock:
        publish(ProductStockChanged(product_id=product.id, stock=product.stock))
    return product


@transaction.atomic
def product_delete(*, product_id: int) -> None:
    """Delete the product for good.

    Stock reservations name products by id, not by foreign key (inventory.models), so
    an order that holds this product keeps its reservation; releasing it later simply
    has no stock left to give back for this line."""
    product = Product.objects.select_for_update().get(pk=product_id)
    product.delete()
    publish(ProductDeleted(product_id=product_id))


# --- ratings, fed by handlers.py ---------------------------------------------------------

_CENTS = Decimal("0.01")


@transaction.atomic
def product_rating_add(*, product_id: int, rating: int) -> Product | None:
    """Count one more review of `rating` stars into the product's aggregate.

    Runs once per review.created event (the inbox sees to that). A review of a product
    deleted meanwhile has nothing left to rate and is dropped; a rating out of 1..5
    is a publisher's bug and fails loudly so the event ends up in the dead-letter store
    rather than skewing the average."""
    if not 1 <= rating <= 5:
        raise ValueError(f"rating {rating} is not between 1 and 5")
    product = Product.objects.select_for_update().filter(pk=product_id).first()
    if product is None:
        logger.info("review of unknown product %s ignored", product_id)
        return None
    product.rating_count += 1
    product.rating_sum += rating
    product.rating_avg = (Decimal(product.rating_sum) / product.rating_count).quantize(_CENTS, ROUND_HALF_UP)
    product.save(update_fields=["rating_count", "rating_sum", "rating_avg", "updated_at"])
    return product


# --- categories -------------------------------------------------------------------------


def _save_category(category: Category) -> Category:
    """Validate and save; a duplicate that slipped past validation in a race is still a 400."""
    if not category.slug:
        category.slug = slugify(category.name)[:100]
    category.full_clean()
    try:
        with transaction.atomic():
            category.save()
    except IntegrityError:
        raise ApplicationError(
            "Invalid input.",
            code="validation_error",
            fields={"name": ["A category with this name or slug already exists."]},
        ) from None
    return category


@transaction.atomic
def category_create(*, name: str, slug: str = "", description: str = "") -> Category:
    """Create a category; its slug defaults to the slugified name."""
    return _save_category(Category(name=name, slug=slug, description=description))


@transaction.atomic
def category_update(*, category_id: int, **changes) -> Category:
    category = Category.objects.select_for_update().get(pk=category_id)
    for field, value in changes.items():
        setattr(category, field, value)
    return _save_category(category)


@transaction.atomic
def category_delete(*, category_id: int) -> None:
    category = Category.objects.select_for_update().get(pk=category_id)
    products = category.products.count()
    if products:
        raise Conflict(
            f"Category {category.name!r} still holds {products} product(s); move or delete them first.",
            code="category_not_empty",
        )
    category.delete()
