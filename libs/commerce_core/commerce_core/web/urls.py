"""The URLs every service has besides its API: admin, health, metrics and its OpenAPI document.

Services serve their API under the same prefix the gateway routes on
(`/api/catalog/...`), so the gateway forwards paths unchanged and each service's
schema already names the public paths."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from ..observability.views import metrics_view
from .health import health


def service_urlpatterns(prefix: str, api_urls) -> list:
    return [
        path(f"api/{prefix}/schema/", SpectacularAPIView.as_view(), name="schema"),
        path(f"api/{prefix}/", include(api_urls)),
        path("health/", health, name="health"),
        # Prometheus scrapes each service on its own port; the gateway never routes this.
        path("metrics", metrics_view, name="metrics"),
        path("admin/", admin.site.urls),
    ]


handler400 = "commerce_core.web.errors.bad_request_view"
handler404 = "commerce_core.web.errors.not_found_view"
handler500 = "commerce_core.web.errors.server_error_view"
