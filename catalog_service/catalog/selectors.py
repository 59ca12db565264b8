"""Reads of the catalog."""

from django.db.models import QuerySet

from .models import Category, Product


def product_list() -> QuerySet[Product]:
    """What the shop shows: active products only."""
    return Product.objects.filter(is_active=True)


def product_get(*, product_id: int) -> Product:
    return Product.objects.get(pk=product_id)


def category_list() -> QuerySet[Category]:
    return Category.objects.all()


def category_by_id_or_slug(value: str) -> Category | None:
    """The category a filter names either by its id (all digits) or by its slug."""
    lookup = {"pk": int(value)} if value.isascii() and value.isdigit() else {"slug": value}
    return Category.objects.filter(**lookup).first()
