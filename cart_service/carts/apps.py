from django.apps import AppConfig


class CartsConfig(AppConfig):
    name = "carts"
    default_auto_field = "django.db.models.BigAutoField"
