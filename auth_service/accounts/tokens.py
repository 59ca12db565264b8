"""The JWTs this service issues, built with djangorestframework-simplejwt (configured
by `SIMPLE_JWT` in config/settings.py).

An access token carries `user_id`, `username`, `is_staff`, `is_superuser` and
`token_type="access"`: all the gateway needs to vouch for the caller (in the APIs,
and in every project's admin, where a superuser here is a superuser there) without
asking this service
(`commerce_core.identity.access_tokens` verifies it). A refresh token names only the
user. Each refresh reads the user again, so a renamed or demoted user gets an access
token that says so, and a deactivated or deleted one gets none, instead of claims
copied from a refresh token that may be days old.
"""

from django.contrib.auth.models import User
from rest_framework import exceptions
from rest_framework import serializers as drf_serializers
from rest_framework_simplejwt import serializers, tokens
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings

from . import selectors

#: The longest password taken anywhere: far above any real one, and a bound on the
#: work a request can ask of the password hasher and validators.
PASSWORD_MAX_LENGTH = 1024
USERNAME_MAX_LENGTH = User._meta.get_field("username").max_length
#: Far above the few hundred characters of the refresh tokens this service issues.
REFRESH_TOKEN_MAX_LENGTH = 2048


class RefreshToken(tokens.RefreshToken):
    @classmethod
    def for_user(cls, user: User) -> "RefreshToken":
        token = super().for_user(user)
        # simplejwt writes the id as a string; the platform's ids are integers everywhere else.
        token[api_settings.USER_ID_CLAIM] = user.pk
        return token

    def access_token_for(self, user: User) -> tokens.AccessToken:
        """This refresh token's access token, with `user`'s current identity claims."""
        access = self.access_token
        access["username"] = user.username
        access["is_staff"] = user.is_staff
        access["is_superuser"] = user.is_superuser
        return access


class TokenObtainPairSerializer(serializers.TokenObtainSerializer):
    """A username (in any case) and password for an access and a refresh token."""

    token_class = RefreshToken

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # simplejwt builds both fields without a bound; no username or password is longer.
        self.fields[self.username_field] = drf_serializers.CharField(write_only=True, max_length=USERNAME_MAX_LENGTH)
        self.fields["password"] = serializers.PasswordField(max_length=PASSWORD_MAX_LENGTH)

    def validate(self, attrs):
        super().validate(attrs)  # authenticates `self.user`, or raises
        refresh = self.get_token(self.user)
        return {"access": str(refresh.access_token_for(self.user)), "refresh": str(refresh)}


class TokenRefreshSerializer(serializers.TokenRefreshSerializer):
    """A refresh token for a new access token carrying the user's current claims.
    The refresh token stays valid until it expires: it is not rotated."""

    token_class = RefreshToken
    refresh = drf_serializers.CharField(max_length=REFRESH_TOKEN_MAX_LENGTH)

    def validate(self, attrs):
        try:
            refresh = self.token_class(attrs["refresh"])
        except TokenError as exc:
            raise exceptions.AuthenticationFailed(str(exc), code="token_not_valid") from None
        try:
            user_id = int(refresh[api_settings.USER_ID_CLAIM])
        except (KeyError, TypeError, ValueError):
            raise exceptions.AuthenticationFailed("Token has no valid user id.", code="token_not_valid") from None
        user = selectors.user_get(user_id=user_id)
        if user is None or not api_settings.USER_AUTHENTICATION_RULE(user):
            raise exceptions.AuthenticationFailed(self.error_messages["no_active_account"], code="no_active_account")
        return {"access": str(refresh.access_token_for(user))}
