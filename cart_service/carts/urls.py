from django.urls import path

from . import apis

urlpatterns = [
    path("", apis.CartApi.as_view(), name="cart"),
    path("items/", apis.CartItemAddApi.as_view(), name="cart-item-add"),
    path("items/<id:product_id>/", apis.CartItemDetailApi.as_view(), name="cart-item-detail"),
]
