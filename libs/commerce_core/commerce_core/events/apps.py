from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class EventsConfig(AppConfig):
    name = "commerce_core.events"
    label = "events"
    verbose_name = "Domain events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Every app declares what it does with events in `<app>/handlers.py`; importing
        # them fills the handler registry (checked against the routing table, checks.py)...
        autodiscover_modules("handlers")
        # ...and the periodic jobs its worker runs, in `<app>/jobs.py`.
        autodiscover_modules("jobs")
        from . import checks  # noqa: F401  (registers the system check)
