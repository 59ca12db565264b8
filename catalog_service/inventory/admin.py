from django.contrib import admin
from django.db.models import Count

from commerce_core.web.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import StockReservation, StockReservationLine


class StockReservationLineInline(ReadOnlyInline):
    model = StockReservationLine
    fields = ["product_id", "quantity", "unit_price"]


@admin.register(StockReservation)
class StockReservationAdmin(ReadOnlyAdmin):
    """Read-only: a reservation moves only with its order's events. Releasing one by
    hand would give stock back for an order the cart and the payment service still
    consider live; cancelling the order is what releases it."""

    list_display = ["order_id", "user_id", "status", "total", "line_count", "reason", "created_at", "updated_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["=order_id", "=user_id"]
    date_hierarchy = "created_at"
    inlines = [StockReservationLineInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_line_count=Count("lines"))

    @admin.display(description="lines", ordering="_line_count")
    def line_count(self, reservation):
        return reservation._line_count
