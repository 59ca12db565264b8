from django.urls import path

from . import apis

urlpatterns = [
    path("products/", apis.ProductListCreateApi.as_view(), name="product-list"),
    path("products/<id:pk>/", apis.ProductDetailApi.as_view(), name="product-detail"),
    path("categories/", apis.CategoryListCreateApi.as_view(), name="category-list"),
    path("categories/<id:pk>/", apis.CategoryDetailApi.as_view(), name="category-detail"),
]
