from django.contrib import admin

from .models import Payment


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ["id", "order_id", "user_id", "amount", "status", "provider_reference", "created_at", "updated_at"]
    list_filter = ["status"]
    search_fields = ["order_id", "user_id", "provider_reference", "failure_reason"]
    readonly_fields = ["created_at", "updated_at"]
    date_hierarchy = "created_at"
