from django.urls import path

from . import apis

urlpatterns = [
    path("items/", apis.ItemListCreateApi.as_view()),
    path("items/<id:pk>/", apis.ItemDetailApi.as_view()),
]
