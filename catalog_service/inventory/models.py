"""The stock the catalog holds for orders, one reservation per order.

The checkout saga (cart → catalog → payment) asks the catalog to set aside every
line of an order, or none, when the order is placed; to keep it once the order is
paid; and to give it back when the order is cancelled. See services.py.
"""

from decimal import Decimal

from django.db import models


class StockReservation(models.Model):
    class Status(models.TextChoices):
        RESERVED = "reserved", "reserved (stock held, awaiting payment)"
        REJECTED = "rejected", "rejected (nothing held)"
        COMMITTED = "committed", "committed (paid, stock sold)"
        RELEASED = "released", "released (stock given back)"

    # Unique: one decision per order, however often or in whatever order its events
    # arrive. A concurrent second attempt for the same order fails on this constraint
    # and is retried by the bus, to find the first one's decision.
    order_id = models.PositiveBigIntegerField(unique=True)
    user_id = models.PositiveBigIntegerField(db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, db_index=True)
    total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    reason = models.CharField(max_length=500, blank=True, help_text="Why it was rejected or released.")
    unavailable_product_ids = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"reservation for order {self.order_id} ({self.status})"


class StockReservationLine(models.Model):
    """One line of the order as it was placed."""

    reservation = models.ForeignKey(StockReservation, on_delete=models.CASCADE, related_name="lines")
    # A product id, not a foreign key: deleting a product must neither cascade into the
    # reservations that hold it nor be blocked by them. Releasing such a line later just
    # finds no product to give the stock back to.
    product_id = models.PositiveBigIntegerField(db_index=True)
    # As the order asked; an order with a line below 1 is rejected, never reserved.
    quantity = models.IntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.quantity} × product {self.product_id}"
