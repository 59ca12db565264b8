from django.urls import path

from . import apis

urlpatterns = [
    path("register/", apis.RegisterApi.as_view(), name="register"),
    path("token/", apis.TokenObtainApi.as_view(), name="token-obtain"),
    path("token/refresh/", apis.TokenRefreshApi.as_view(), name="token-refresh"),
    path("me/", apis.MeApi.as_view(), name="me"),
]
