from django.urls import include, path

from commerce_core.web.urls import handler400, handler404, handler500, service_urlpatterns  # noqa: F401

# Both apps answer under the one prefix the gateway routes to the cart service.
urlpatterns = service_urlpatterns(
    "cart",
    [
        path("", include("carts.urls")),
        path("", include("orders.urls")),
    ],
)
