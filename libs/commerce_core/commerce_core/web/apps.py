from django.apps import AppConfig


class WebConfig(AppConfig):
    """What every project's HTTP layer shares: the `id` path converter and the
    system checks of the inputs it accepts."""

    name = "commerce_core.web"
    label = "commerce_web"

    def ready(self):
        from . import checks, converters  # noqa: F401  (importing registers the checks)

        converters.register()
