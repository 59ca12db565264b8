"""Operators' view of the catalog. Every write goes through services.py, like the API's,
so the admin publishes the same events (a price changed here reaches every cart)."""

from django.contrib import admin
from django.db.models import Count

from . import services
from .models import Category, Product

PRODUCT_WRITABLE_FIELDS = ["name", "description", "price", "stock", "is_active", "category"]
CATEGORY_WRITABLE_FIELDS = ["name", "slug", "description"]


def _saved_as(obj, saved) -> None:
    """Make the admin's in-memory object the row the service saved (the admin logs and
    redirects with it)."""
    obj.pk = saved.pk
    obj.refresh_from_db()


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "category", "price", "stock", "is_active", "rating_avg", "rating_count", "updated_at"]
    list_filter = ["is_active", "category"]
    search_fields = ["name", "description", "category__name"]
    list_select_related = ["category"]
    fields = [*PRODUCT_WRITABLE_FIELDS, "rating_avg", "rating_count", "rating_sum", "created_at", "updated_at"]
    readonly_fields = ["rating_avg", "rating_count", "rating_sum", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        if change:
            changes = {
                field: form.cleaned_data[field] for field in form.changed_data if field in PRODUCT_WRITABLE_FIELDS
            }
            saved = services.product_update(product_id=obj.pk, **changes)
        else:
            saved = services.product_create(**{field: form.cleaned_data[field] for field in PRODUCT_WRITABLE_FIELDS})
        _saved_as(obj, saved)

    def delete_model(self, request, obj):
        services.product_delete(product_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for product_id in queryset.values_list("pk", flat=True):
            services.product_delete(product_id=product_id)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "slug", "product_count", "updated_at"]
    search_fields = ["name", "slug", "description"]
    list_filter = ["created_at"]
    prepopulated_fields = {"slug": ["name"]}
    fields = [*CATEGORY_WRITABLE_FIELDS, "created_at", "updated_at"]
    readonly_fields = ["created_at", "updated_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_product_count=Count("products"))

    @admin.display(description="products", ordering="_product_count")
    def product_count(self, category):
        return category._product_count

    def save_model(self, request, obj, form, change):
        values = {field: form.cleaned_data[field] for field in CATEGORY_WRITABLE_FIELDS}
        saved = services.category_update(category_id=obj.pk, **values) if change else services.category_create(**values)
        _saved_as(obj, saved)

    # The admin refuses to delete a category that still holds products before it gets
    # here (the foreign key is PROTECT); the service checks it again under a lock.
    def delete_model(self, request, obj):
        services.category_delete(category_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for category_id in queryset.values_list("pk", flat=True):
            services.category_delete(category_id=category_id)
