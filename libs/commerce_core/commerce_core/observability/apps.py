from django.apps import AppConfig


class ObservabilityConfig(AppConfig):
    name = "commerce_core.observability"
    label = "observability"
    verbose_name = "Observability"

    def ready(self):
        # Django is set up before any request is served or event consumed, and before
        # the WSGI handler reads MIDDLEWARE (where the Django instrumentation goes).
        from django.conf import settings

        from . import tracing

        if tracing.configure(service=settings.SERVICE_NAME):
            tracing.instrument_libraries(django=settings.TRACE_DJANGO_REQUESTS)
