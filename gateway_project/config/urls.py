from django.contrib import admin
from django.urls import include, path
from edge import views

from commerce_core.web.urls import handler400, handler404, handler500  # noqa: F401

# Paths under a service's prefix (/api/auth/, /api/catalog/, ...) never reach these
# patterns: proxy/app.py forwards them before Django sees them.
urlpatterns = [
    path("health", views.health, name="health"),
    path("health/", views.health),
    path("api/schema/", views.schema, name="schema"),
    path("api/docs/", views.docs, name="docs"),
    path("admin/", admin.site.urls),
    path("live/", include("live.urls")),
]
