from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models


class Payment(models.Model):
    """The charge for one order. One per order, so that a redelivered or retried
    checkout step can never charge the same order twice.

    Recorded `pending` when the order is placed, charged once its stock is reserved,
    and given back (`cancelled` before a charge, `refunded` after one) when the order
    will not complete. A call to the provider is recorded *in flight* (`charging`,
    `refunding`) and committed before it is made, so that a crash during the call
    leaves a row that says so. See services.py for the transitions.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        CHARGING = "charging"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"
        REFUNDING = "refunding"
        REFUNDED = "refunded"

    #: Statuses of a provider call made (or about to be made) whose answer is not recorded yet.
    IN_FLIGHT = (Status.CHARGING, Status.REFUNDING)

    order_id = models.PositiveBigIntegerField(unique=True)
    user_id = models.PositiveBigIntegerField(db_index=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.00"))])
    currency = models.CharField(max_length=3, default="usd", help_text="ISO 4217 code, lower case as Stripe writes it.")
    status = models.CharField(
        max_length=16,
        choices=Status.choices,
        default=Status.PENDING,
        db_index=True,
        help_text="pending until the order's stock is reserved; charging while the provider is asked; then "
        "succeeded or failed. cancelled if the order was given up before the charge; refunding, then "
        "refunded, if after it.",
    )
    # What the customer handed over at checkout (a provider token, never card data).
    # Only the provider needs it, so no API output carries it.
    payment_token = models.CharField(max_length=255, blank=True)
    charge_idempotency_key = models.CharField(
        max_length=255,
        blank=True,
        help_text="The idempotency key the charge is sent with, recorded before the first attempt: "
        "every later attempt (a retry, the resolution after a crash) repeats it, so the provider "
        "charges at most once.",
    )
    provider_reference = models.CharField(
        max_length=255,
        blank=True,
        db_index=True,
        help_text="The payment provider's id of the charge, once it has answered.",
    )
    failure_reason = models.CharField(
        max_length=255,
        blank=True,
        help_text="Why the charge was declined (card_declined, insufficient_funds, invalid_token), "
        "the payment cancelled, or a refund declined; empty otherwise.",
    )
    refund_idempotency_key = models.CharField(
        max_length=255, blank=True, help_text="The idempotency key of the refund, recorded before it is asked for."
    )
    # The provider's id for the refund of the charge, once refunded.
    refund_reference = models.CharField(max_length=255, blank=True)
    in_flight_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the provider call in flight (charging, refunding) was started or last taken up; "
        "a call still unanswered well after it was left by a crash and is resolved by the worker.",
    )
    order_cancelled_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the order was cancelled: from then on the payment must end without the money "
        "(cancelled, failed or refunded), and a charge that was in flight is refunded once it succeeds.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The resolver's scan for provider calls left in flight.
            models.Index(fields=["status", "in_flight_since"], name="payment_in_flight_idx"),
        ]

    def __str__(self):
        return f"payment {self.pk} for order {self.order_id} ({self.status})"
