from django.urls import path

from . import views

app_name = "sign_on"
urlpatterns = [
    path("", views.entry, name="entry"),
    path("login/", views.sign_in, name="sign_in"),
    path("logout/", views.sign_out, name="sign_out"),
]
