"""Passwords are stored with Argon2id; a PBKDF2 hash of before is upgraded at the
next login. These tests use the platform's real hashers (the test plugin swaps in a
fast one for every other test)."""

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User

from commerce_core.settings import base

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def real_hashers(settings):
    settings.PASSWORD_HASHERS = base.PASSWORD_HASHERS


def test_a_new_account_stores_its_password_with_argon2id_at_the_platforms_strength(api_client, real_hashers):
    response = api_client.post(
        "/api/auth/register/",
        {"username": "grace", "email": "grace@example.com", "password": PASSWORD},
        format="json",
    )

    assert response.status_code == 201, response.content
    stored = User.objects.get(username="grace").password
    assert stored.startswith("argon2$argon2id$v=19$m=32768,t=3,p=1$")


def test_a_pbkdf2_password_is_upgraded_to_argon2id_at_the_next_login(api_client, real_hashers):
    user = User.objects.create(username="ada", email="ada@example.com")
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save()

    first = api_client.post("/api/auth/token/", {"username": "ada", "password": PASSWORD}, format="json")

    assert first.status_code == 200, first.content
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    again = api_client.post("/api/auth/token/", {"username": "ada", "password": PASSWORD}, format="json")
    assert again.status_code == 200
    wrong = api_client.post("/api/auth/token/", {"username": "ada", "password": "not-the-password"}, format="json")
    assert wrong.status_code == 401
