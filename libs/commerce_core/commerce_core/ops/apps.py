from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "commerce_core.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self):
        # Every process of every project sets Django up, and this app is in all of
        # them: the one place where a production process can refuse to start.
        from django.conf import settings

        from commerce_core.settings.production import refuse_to_start_if_insecure

        refuse_to_start_if_insecure(settings)
