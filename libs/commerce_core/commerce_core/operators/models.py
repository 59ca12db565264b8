from django.conf import settings
from django.db import models


class OperatorAccount(models.Model):
    """Which auth service user a local `User` stands for.

    Every project's admin needs a `User` row (permissions, log entries), but users
    live in the auth service: a staff member gets a local account the first time
    the gateway vouches for them, linked here by the auth service's user id, which
    never changes (a username may: the local one follows it)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="operator_account")
    auth_user_id = models.PositiveBigIntegerField(unique=True)

    def __str__(self):
        return f"auth user {self.auth_user_id}"
