from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class EventsConfig(AppConfig):
    name = "commerce_core.events"
    label = "events"
    verbose_name = "Domain events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Every app declares its subscriptions in `<app>/handlers.py`; importing them
        # fills the handler registry from which the worker's queue bindings are built.
        autodiscover_modules("handlers")
        # ...and the periodic jobs its worker runs, in `<app>/jobs.py`.
        autodiscover_modules("jobs")
