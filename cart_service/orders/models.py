"""Orders: a cart frozen at checkout, and the checkout answers kept for idempotent retries."""

from django.core.validators import MinValueValidator
from django.db import models


class OrderStatus(models.TextChoices):
    """`pending` until the saga decides; every other status is final."""

    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"  # the payment was declined
    CANCELLED = "cancelled"  # stock was refused, the order timed out, or an operator cancelled it


class Order(models.Model):
    user_id = models.PositiveBigIntegerField(db_index=True)
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING)
    # Why the order failed or was cancelled, as the service that refused it put it.
    reason = models.TextField(blank=True)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The caller's orders, newest first.
            models.Index(fields=["user_id", "-created_at"], name="order_user_newest_idx"),
            # The timeout job's scan for stale pending orders.
            models.Index(fields=["status", "created_at"], name="order_status_age_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=OrderStatus.values), name="order_status_known"),
            # A cart is ordered once: while a customer's order is pending, no second one
            # can be placed, whatever races the application's own check loses.
            models.UniqueConstraint(
                fields=["user_id"],
                condition=models.Q(status=OrderStatus.PENDING),
                name="one_pending_order_per_user",
            ),
        ]

    def __str__(self):
        return f"order {self.pk} ({self.status})"


class OrderLine(models.Model):
    """A cart line as it was at checkout. The product is a plain id, not a link to the
    replica: the line keeps the price the customer agreed to whatever the catalog does later."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product_id = models.PositiveBigIntegerField()
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "product_id"], name="order_line_once_per_product"),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="order_line_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} × product {self.product_id} at {self.unit_price}"


class IdempotencyRecord(models.Model):
    """The first answer to a checkout sent with an `Idempotency-Key`, replayed to retries.

    The row is inserted in the same transaction as the order it answers for, so a
    visible record always carries its answer, and the unique (user, key) pair makes a
    concurrent duplicate wait for that transaction instead of placing a second order.
    """

    user_id = models.PositiveBigIntegerField()
    key = models.CharField(max_length=255)
    # A hash of the operation and its input: the same key with other input is refused.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    order = models.ForeignKey(Order, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user_id", "key"], name="idempotency_key_once_per_user")]

    def __str__(self):
        return f"{self.key} of user {self.user_id} → {self.status_code}"
