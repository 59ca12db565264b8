from django.contrib import admin, messages

from commerce_core.web.admin import ReadOnlyAdmin, ReadOnlyInline

from . import services
from .models import IdempotencyRecord, Order, OrderLine

OPERATOR_CANCELLED = "cancelled by an operator"


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ["product_id", "quantity", "unit_price"]


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    """Orders change only through the saga's events, so the admin shows them read-only;
    the one write, cancelling, goes through services.py, which publishes `order.cancelled`
    so that the stock is released and a payment refunded."""

    list_display = ["id", "user_id", "status", "total", "created_at", "updated_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["=id", "=user_id"]
    date_hierarchy = "created_at"
    fields = ["id", "user_id", "status", "reason", "total", "created_at", "updated_at"]
    readonly_fields = fields
    inlines = [OrderLineInline]
    actions = ["cancel_pending_orders"]

    def has_cancel_permission(self, request):
        return request.user.has_perm("orders.change_order")

    @admin.action(description="Cancel the selected pending orders", permissions=["cancel"])
    def cancel_pending_orders(self, request, queryset):
        cancelled = [
            order_id
            for order_id in queryset.values_list("pk", flat=True)
            if services.order_cancel(order_id=order_id, reason=OPERATOR_CANCELLED)
        ]
        skipped = queryset.count() - len(cancelled)
        self.message_user(request, f"Cancelled {len(cancelled)} order(s).", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"{skipped} order(s) were no longer pending and stay as they are.", messages.WARNING
            )


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    """Stored checkout answers, read-only: changing one would change what a retry is told."""

    list_display = ["key", "user_id", "status_code", "order", "created_at"]
    list_filter = ["status_code", "created_at"]
    search_fields = ["key", "=user_id"]
    list_select_related = ["order"]
    readonly_fields = ["user_id", "key", "fingerprint", "status_code", "body", "order", "created_at"]
