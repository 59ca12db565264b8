from django.apps import AppConfig


class InputAppConfig(AppConfig):
    name = "tests.inputapp"
    label = "inputapp"
    default_auto_field = "django.db.models.BigAutoField"
