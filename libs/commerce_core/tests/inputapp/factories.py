from datetime import UTC, datetime
from decimal import Decimal

from .models import Item, Shelf


def make_item(*, shelf: Shelf | None = None, name: str = "Mug", price: str = "9.90", count: int = 3) -> Item:
    return Item.objects.create(
        shelf=shelf or Shelf.objects.create(name="Kitchen"),
        name=name,
        price=Decimal(price),
        count=count,
        placed_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
