from decimal import Decimal

from .base import Audience, EventContract, event_contract


@event_contract("catalog.product.created", audience=Audience.PUBLIC)
class ProductCreated(EventContract):
    product_id: int
    name: str
    price: Decimal
    stock: int


@event_contract("catalog.product.price_changed", audience=Audience.PUBLIC)
class ProductPriceChanged(EventContract):
    product_id: int
    old_price: Decimal
    price: Decimal


@event_contract("catalog.product.stock_changed", audience=Audience.PUBLIC)
class ProductStockChanged(EventContract):
    product_id: int
    stock: int


@event_contract("catalog.product.deleted", audience=Audience.PUBLIC)
class ProductDeleted(EventContract):
    product_id: int
