from django.urls import path

from . import apis

urlpatterns = [
    path("checkout/", apis.CheckoutApi.as_view(), name="checkout"),
    path("orders/", apis.OrderListApi.as_view(), name="order-list"),
    path("orders/<id:order_id>/", apis.OrderDetailApi.as_view(), name="order-detail"),
]
