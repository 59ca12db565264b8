from django.apps import AppConfig


class InventoryConfig(AppConfig):
    """Stock held for orders: the catalog's part of the checkout saga."""

    name = "inventory"
    default_auto_field = "django.db.models.BigAutoField"
