from django.apps import AppConfig


class SignOnConfig(AppConfig):
    name = "sign_on"
    verbose_name = "Operators' sign-on"
