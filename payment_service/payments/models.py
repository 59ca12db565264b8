from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models


class Payment(models.Model):
    """The charge for one order. One per order, so that a redelivered or retried
    checkout step can never charge the same order twice."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        REFUNDED = "refunded"

    order_id = models.PositiveBigIntegerField(unique=True)
    user_id = models.PositiveBigIntegerField(db_index=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.00"))])
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    # The payment provider's id for the charge, once it has answered.
    provider_reference = models.CharField(max_length=255, blank=True)
    failure_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"payment {self.pk} for order {self.order_id} ({self.status})"
