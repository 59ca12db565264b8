"""The URLs every service has besides its API: admin, health, metrics and its OpenAPI document.

Services serve their API under the same prefix the gateway routes on
(`/api/catalog/...`), and their admin under the path the gateway forwards to it
(`/admin/catalog/`), so the gateway forwards paths unchanged, each service's schema
already names the public paths and every URL its admin generates is right."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from commerce_core.observability.views import metrics_view
from commerce_core.operators.admin_site import admin_path

from .health import health


def service_urlpatterns(prefix: str, api_urls) -> list:
    return [
        path(f"api/{prefix}/schema/", SpectacularAPIView.as_view(), name="schema"),
        path(f"api/{prefix}/", include(api_urls)),
        path("health/", health, name="health"),
        # Prometheus scrapes each service on its own port; the gateway never routes this.
        path("metrics", metrics_view, name="metrics"),
        path(admin_path(settings.SERVICE_NAME).lstrip("/"), admin.site.urls),
    ]


handler400 = "commerce_core.web.errors.bad_request_view"
handler404 = "commerce_core.web.errors.not_found_view"
handler500 = "commerce_core.web.errors.server_error_view"
