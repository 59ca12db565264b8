from django.contrib import admin

from commerce_core.web.admin import ReadOnlyAdmin

from .models import Cart, CartItem, ProductReplica


class CartItemInline(admin.TabularInline):
    model = CartItem
    extra = 0
    raw_id_fields = ["product"]
    readonly_fields = ["added_at"]


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin):
    list_display = ["id", "user_id", "item_count", "created_at", "updated_at"]
    list_filter = ["updated_at"]
    search_fields = ["user_id"]
    readonly_fields = ["created_at", "updated_at"]
    date_hierarchy = "updated_at"
    inlines = [CartItemInline]

    @admin.display(description="items")
    def item_count(self, cart):
        return cart.items.count()


@admin.register(CartItem)
class CartItemAdmin(admin.ModelAdmin):
    list_display = ["id", "cart", "product", "quantity", "added_at"]
    list_filter = ["product__is_deleted"]
    search_fields = ["cart__user_id", "product__product_id", "product__name"]
    list_select_related = ["cart", "product"]
    raw_id_fields = ["cart", "product"]


# Replicas are written by event handlers only; the admin shows them read-only so an
# operator can compare them with their source without drifting from it.
@admin.register(ProductReplica)
class ProductReplicaAdmin(ReadOnlyAdmin):
    list_display = ["product_id", "name", "price", "stock", "is_deleted", "price_as_of", "stock_as_of", "updated_at"]
    list_filter = ["is_deleted"]
    search_fields = ["product_id", "name"]
