"""Events the cart subscribes to: it learns of products only from these, and of users
from the ones commerce_core.customers handles.

Each handler runs once per event id (the inbox sees to that); the services it calls
are also idempotent and order-tolerant in effect (see services.py)."""

from datetime import datetime

from commerce_core.events.api import Envelope, handles
from commerce_core.events.contracts.catalog import (
    ProductCreated,
    ProductDeleted,
    ProductPriceChanged,
    ProductStockChanged,
)

from . import services


def _published_at(envelope: Envelope) -> datetime:
    return datetime.fromisoformat(envelope.time)


@handles(ProductCreated)
def record_new_product(event: ProductCreated, envelope: Envelope) -> None:
    services.product_replica_record(
        product_id=event.product_id,
        name=event.name,
        price=event.price,
        stock=event.stock,
        as_of=_published_at(envelope),
    )


@handles(ProductPriceChanged)
def record_price_change(event: ProductPriceChanged, envelope: Envelope) -> None:
    services.product_replica_record(product_id=event.product_id, price=event.price, as_of=_published_at(envelope))


@handles(ProductStockChanged)
def record_stock_change(event: ProductStockChanged, envelope: Envelope) -> None:
    services.product_replica_record(product_id=event.product_id, stock=event.stock, as_of=_published_at(envelope))


@handles(ProductDeleted)
def remove_deleted_product(event: ProductDeleted, envelope: Envelope) -> None:
    services.product_replica_mark_deleted(product_id=event.product_id)
