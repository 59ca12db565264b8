from django.urls import path

from . import apis

urlpatterns = [
    path("", apis.PaymentListApi.as_view(), name="payment-list"),
    path("<id:pk>/", apis.PaymentDetailApi.as_view(), name="payment-detail"),
]
