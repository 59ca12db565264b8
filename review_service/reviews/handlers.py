"""Events the review service subscribes to: it learns of products and purchases only
from these, and of users from the ones commerce_core.customers handles.

Each handler runs once per event id (the inbox sees to that); the services it calls
are also idempotent and order-tolerant in effect (see services.py)."""

from commerce_core.events.api import Envelope, handles
from commerce_core.events.contracts.catalog import ProductCreated, ProductDeleted
from commerce_core.events.contracts.orders import OrderPaid

from . import services


@handles(ProductCreated)
def record_new_product(event: ProductCreated, envelope: Envelope) -> None:
    services.product_replica_record(product_id=event.product_id, name=event.name)


@handles(ProductDeleted)
def record_deleted_product(event: ProductDeleted, envelope: Envelope) -> None:
    services.product_replica_mark_deleted(product_id=event.product_id)


@handles(OrderPaid)
def record_purchases_of_paid_order(event: OrderPaid, envelope: Envelope) -> None:
    services.purchases_record(
        order_id=event.order_id, user_id=event.user_id, product_ids=[line.product_id for line in event.items]
    )
