from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "commerce_core.ops"
    label = "ops"
    verbose_name = "Operations"
