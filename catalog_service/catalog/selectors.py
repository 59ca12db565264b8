"""Reads of the catalog."""

import functools
from collections.abc import Callable

from django.db.models import QuerySet

from commerce_core.databases.compiled import CompiledRows

from .models import Category, Product


def product_list() -> QuerySet[Product]:
    """What the shop shows: active products only."""
    return Product.objects.filter(is_active=True)


def product_list_rows(columns: tuple[str, ...]) -> QuerySet:
    """product_list() as tuples of these columns, for pages written without building a
    model instance per product."""
    return _product_list_rows(columns).all()


@functools.cache
def _product_list_rows(columns: tuple[str, ...]) -> QuerySet:
    # Built once per set of columns and copied (`.all()`) for each request, as DRF does
    # with a view's `queryset`: resolving the filter and the columns again cost more
    # than the copy. It is never evaluated itself, so it holds no rows, only the query.
    return product_list().values_list(*columns)


@functools.cache
def product_list_rows_compiled(columns: tuple[str, ...], row_map: Callable[[tuple], object]) -> CompiledRows:
    """product_list_rows() with its SQL compiled once, each row as `row_map` makes it
    from its columns (memoized by the row's values): the page a list shows when the
    request gives no filter, search or ordering (commerce_core.databases.compiled)."""
    return CompiledRows(_product_list_rows(columns), row_map=row_map)


def product_get(*, product_id: int) -> Product:
    return Product.objects.get(pk=product_id)


def category_list() -> QuerySet[Category]:
    return Category.objects.all()


def category_by_id_or_slug(value: str) -> Category | None:
    """The category a filter names either by its id (all digits) or by its slug."""
    lookup = {"pk": int(value)} if value.isascii() and value.isdigit() else {"slug": value}
    return Category.objects.filter(**lookup).first()
