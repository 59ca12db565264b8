from django.contrib import admin

from commerce_core.web.admin import ReadOnlyAdmin

from .models import ProductReplica, Purchase, Review


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["id", "product", "user_id", "rating", "verified_purchase", "created_at"]
    list_filter = ["rating", "verified_purchase", "product__is_deleted"]
    search_fields = ["comment", "user_id", "product__product_id", "product__name"]
    list_select_related = ["product"]
    raw_id_fields = ["product"]
    readonly_fields = ["created_at"]
    date_hierarchy = "created_at"


# Replicas are written by event handlers only; the admin shows them read-only so an
# operator can compare them with their source without drifting from it.
@admin.register(ProductReplica)
class ProductReplicaAdmin(ReadOnlyAdmin):
    list_display = ["product_id", "name", "is_deleted", "updated_at"]
    list_filter = ["is_deleted"]
    search_fields = ["product_id", "name"]


# Purchases come from `order.paid` only; like the replicas they are read-only here.
@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyAdmin):
    list_display = ["id", "user_id", "product_id", "order_id", "created_at"]
    list_filter = [("created_at", admin.DateFieldListFilter)]
    search_fields = ["=user_id", "=product_id", "=order_id"]
    date_hierarchy = "created_at"
