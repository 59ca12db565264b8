from django.urls import path

from . import apis

urlpatterns = [
    path("", apis.ReviewListCreateApi.as_view(), name="review-list"),
]
