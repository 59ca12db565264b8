from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models


class Payment(models.Model):
    """The charge for one order. One per order, so that a redelivered or retried
    checkout step can never charge the same order twice.

    Recorded `pending` when the order is placed, charged once its stock is reserved,
    and given back (`cancelled` before a charge, `refunded` after one) when the order
    will not complete. See services.py for the transitions.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"
        REFUNDED = "refunded"

    order_id = models.PositiveBigIntegerField(unique=True)
    user_id = models.PositiveBigIntegerField(db_index=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.00"))])
    currency = models.CharField(max_length=3, default="usd", help_text="ISO 4217 code, lower case as Stripe writes it.")
    status = models.CharField(
        max_length=16,
        choices=Status.choices,
        default=Status.PENDING,
        db_index=True,
        help_text="pending until the order's stock is reserved, then succeeded or failed; cancelled if the order "
        "was given up before the charge, refunded if after it.",
    )
    # What the customer handed over at checkout (a provider token, never card data).
    # Only the provider needs it, so no API output carries it.
    payment_token = models.CharField(max_length=255, blank=True)
    provider_reference = models.CharField(
        max_length=255,
        blank=True,
        db_index=True,
        help_text="The payment provider's id of the charge, once it has answered.",
    )
    failure_reason = models.CharField(
        max_length=255,
        blank=True,
        help_text="Why the charge was declined (card_declined, insufficient_funds, invalid_token) "
        "or the payment cancelled; empty otherwise.",
    )
    # The provider's id for the refund of the charge, once refunded.
    refund_reference = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"payment {self.pk} for order {self.order_id} ({self.status})"


class SimulatedProviderOperation(models.Model):
    """What the simulated provider (providers.SimulatedProvider) has done, one row per
    idempotency key: the provider-side ledger a real provider keeps on its own servers.

    It is a table rather than memory because idempotency has to outlive the process:
    the charge of a worker that dies before committing is retried by another worker,
    and the admin's refunds run in the web process, not in the worker that charged.
    """

    class Kind(models.TextChoices):
        CHARGE = "charge"
        REFUND = "refund"

    idempotency_key = models.CharField(max_length=255, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, blank=True)
    token = models.CharField(max_length=255, blank=True)
    # For a refund: the charge it gives back.
    charge_reference = models.CharField(max_length=255, blank=True, db_index=True)
    succeeded = models.BooleanField()
    reference = models.CharField(max_length=255, blank=True, db_index=True)
    failure_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"simulated {self.kind} {self.reference or self.failure_reason}"
