"""Writes of the catalog. Each runs in one transaction with the events it publishes."""
from decimal import Decimal

from django.db import transaction

from commerce_core.events.api import publish
from commerce_core.events.contracts.catalog import ProductCreated, ProductDeleted, ProductPriceChanged, ProductStockChanged

from .models import Product


@transaction.atomic
def product_create(*, name: str, price: Decimal, stock: int = 0, description: str = "") -> Product:
    product = Product.objects.create(name=name, price=price, stock=stock, description=description)
    publish(ProductCreated(product_id=product.id, name=product.name, price=product.price, stock=product.stock))
    return product


@transaction.atomic
def product_update(*, product_id: int, **changes) -> Product:
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
    product = Product.objects.select_for_update().get(pk=product_id)
    product.delete()
    publish(ProductDeleted(product_id=product_id))
