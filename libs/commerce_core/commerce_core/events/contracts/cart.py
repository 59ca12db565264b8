from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from .base import Audience, EventContract, event_contract


class CartLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    product_id: int
    quantity: int
    unit_price: Decimal


@event_contract("cart.updated", audience=Audience.USER)
class CartUpdated(EventContract):
    user_id: int
    items: list[CartLine]
    total: Decimal
