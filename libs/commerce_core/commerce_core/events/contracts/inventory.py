"""Stock reservation for an order, decided by the catalog for all lines at once."""

from decimal import Decimal

from .base import event_contract
from .cart import CartLine
from .orders import OrderEvent


@event_contract("stock.reserved")
class StockReserved(OrderEvent):
    user_id: int
    items: list[CartLine]
    total: Decimal


@event_contract("stock.rejected")
class StockRejected(OrderEvent):
    user_id: int
    reason: str
    unavailable_product_ids: list[int] = []
