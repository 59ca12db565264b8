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
