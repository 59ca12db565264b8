"""Payments in the Django admin: read-only, because money moves only through
services.py. The one write is the "Refund" action, which goes through
`services.payment_refund` and so publishes `payment.refunded` like any refund."""

from django.contrib import admin, messages

from commerce_core.web.admin import ReadOnlyAdmin
from commerce_core.web.errors import ApplicationError

from . import services
from .models import Payment


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "order_id",
        "user_id",
        "amount",
        "currency",
        "status",
        "provider_reference",
        "failure_reason",
        "created_at",
        "updated_at",
    ]
    list_filter = ["status", "currency", ("order_cancelled_at", admin.EmptyFieldListFilter)]
    search_fields = ["=order_id", "=user_id", "provider_reference", "refund_reference"]
    # The token is only the provider's business, so the admin does not show it either.
    exclude = ["payment_token"]
    readonly_fields = [
        "order_id",
        "user_id",
        "amount",
        "currency",
        "status",
        "provider_reference",
        "failure_reason",
        "charge_idempotency_key",
        "refund_idempotency_key",
        "refund_reference",
        "in_flight_since",
        "order_cancelled_at",
        "created_at",
        "updated_at",
    ]
    date_hierarchy = "created_at"
    actions = ["refund"]

    def has_refund_permission(self, request):
        return request.user.has_perm("payments.change_payment")

    @admin.action(description="Refund the selected payments", permissions=["refund"])
    def refund(self, request, queryset):
        refunded = 0
        for payment_id in queryset.values_list("pk", flat=True):
            try:
                services.payment_refund(payment_id=payment_id)
            except ApplicationError as exc:
                self.message_user(request, exc.message, messages.WARNING)
            else:
                refunded += 1
        if refunded:
            self.message_user(request, f"Refunded {refunded} payment(s).", messages.SUCCESS)
