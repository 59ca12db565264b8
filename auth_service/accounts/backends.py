from django.contrib.auth.backends import ModelBackend

from . import selectors


class CaseInsensitiveModelBackend(ModelBackend):
    """Django's model backend, matching the username without regard to case.

    Only the lookup changes: the password check, the inactive-user rule and the
    timing-attack padding for unknown usernames stay Django's own."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is not None:
            username = selectors.username_stored_as(username=username) or username
        return super().authenticate(request, username=username, password=password, **kwargs)


class OperatorBackend(ModelBackend):
    """The admin's user here: the auth service's own user the gateway vouches for.

    Other projects keep local accounts for staff members (commerce_core.operators);
    here the user *is* the account, so its current flags decide, read from the
    database on every request: a staff member demoted or deactivated in this admin
    loses it at their next request. Only `gateway_principal` is taken: passwords
    are checked by `CaseInsensitiveModelBackend` alone, at the token endpoint.
    """

    def authenticate(self, request, gateway_principal):
        user = selectors.user_get(user_id=gateway_principal.id)
        if user is None or not (user.is_active and user.is_staff):
            return None
        return user
