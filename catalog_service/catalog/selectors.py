"""Reads of the catalog."""
from django.db.models import QuerySet

from .models import Product


def product_list() -> QuerySet[Product]:
    return Product.objects.filter(is_active=True)


def product_get(*, product_id: int) -> Product:
    return Product.objects.get(pk=product_id)
