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
    # The operators' entry, sign-in and sign-out; the services' admins (/admin/<service>/)
    # are forwarded before Django by sign_on/gate.py; the gateway's own admin is here.
    path("admin/", include("sign_on.urls")),
    path("admin/gateway/", admin.site.urls),
    path("live/", include("live.urls")),
]
