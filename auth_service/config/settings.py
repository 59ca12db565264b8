"""Auth service settings: the shared defaults plus what is auth's own (users, passwords, JWTs)."""

from pathlib import Path

from commerce_core.settings.base import *  # noqa: F403
from commerce_core.settings.base import (
    ACCESS_TOKEN_LIFETIME,
    INSTALLED_APPS,
    JWT_ALGORITHM,
    JWT_SECRET,
    REFRESH_TOKEN_LIFETIME,
    SPECTACULAR_SETTINGS,
    build_databases,
)

SERVICE_NAME = "auth"
BASE_DIR = Path(__file__).resolve().parent.parent
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
INSTALLED_APPS = [*INSTALLED_APPS, "rest_framework_simplejwt", "accounts"]
DATABASES = build_databases(SERVICE_NAME)
SPECTACULAR_SETTINGS = {**SPECTACULAR_SETTINGS, "TITLE": "Auth service"}

# --- users and passwords ------------------------------------------------------------
# Usernames are unique regardless of case, so signing in ignores case too.
# The admin's user is the one the gateway vouches for, looked up here (the others keep
# local accounts for staff members: commerce_core.operators).
AUTHENTICATION_BACKENDS = ["accounts.backends.OperatorBackend", "accounts.backends.CaseInsensitiveModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- tokens -------------------------------------------------------------------------
# Signed with the platform's JWT secret so the gateway, which verifies them with
# `commerce_core.identity.access_tokens`, accepts exactly what is issued here.
SIMPLE_JWT = {
    "SIGNING_KEY": JWT_SECRET,
    "ALGORITHM": JWT_ALGORITHM,
    "ACCESS_TOKEN_LIFETIME": ACCESS_TOKEN_LIFETIME,
    "REFRESH_TOKEN_LIFETIME": REFRESH_TOKEN_LIFETIME,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "TOKEN_TYPE_CLAIM": "token_type",
    "TOKEN_OBTAIN_SERIALIZER": "accounts.tokens.TokenObtainPairSerializer",
    "TOKEN_REFRESH_SERIALIZER": "accounts.tokens.TokenRefreshSerializer",
}
