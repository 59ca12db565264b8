"""Reads of users. Usernames and emails are compared without regard to case: both
are unique that way (see migrations/0001)."""

from django.contrib.auth.models import User


def user_get(*, user_id: int) -> User | None:
    return User.objects.filter(pk=user_id).first()


def username_stored_as(*, username: str) -> str | None:
    """The username as it was registered, for a spelling that differs only in case."""
    return User.objects.filter(username__iexact=username).values_list("username", flat=True).first()


def username_taken(*, username: str, exclude_user_id: int | None = None) -> bool:
    return User.objects.filter(username__iexact=username).exclude(pk=exclude_user_id).exists()


def email_taken(*, email: str, exclude_user_id: int | None = None) -> bool:
    if not email:
        return False  # users created before emails were required may share the blank one
    return User.objects.filter(email__iexact=email).exclude(pk=exclude_user_id).exists()
