"""What the auth API takes is bounded: anything beyond is a 400 in the error shape."""

import json

import pytest
from django.contrib.auth.models import User

from accounts.tokens import PASSWORD_MAX_LENGTH, REFRESH_TOKEN_MAX_LENGTH

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


def post_json(client, url: str, body) -> object:
    # json.dumps escapes what DRF's test client cannot encode (a lone surrogate)
    return client.generic("POST", url, json.dumps(body), content_type="application/json")


def registration(**overrides) -> dict:
    return {"username": "bob", "email": "bob@example.com", "password": PASSWORD, **overrides}


def assert_field_error(response, *fields: str):
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert (error["code"], set(error["fields"])) == ("validation_error", set(fields))


def test_every_input_of_the_auth_api_is_bounded(unbounded_inputs):
    assert unbounded_inputs == []


def test_a_registration_nested_200000_arrays_deep_is_a_400_parse_error(api_client):
    body = "[" * 200_000 + "]" * 200_000
    response = api_client.generic("POST", "/api/auth/register/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", "x" * 151),
        ("username", "bob\x00"),  # PostgreSQL cannot store NUL
        ("email", "bob\x00@example.com"),
        ("email", "b" * 250 + "@example.com"),
        ("password", "p" * (PASSWORD_MAX_LENGTH + 1)),
        ("password", "correct-horse\ud800"),  # a lone surrogate: no UTF-8 for it
    ],
)
def test_a_registration_field_beyond_its_bound_is_a_field_error_and_creates_nobody(api_client, field, value):
    assert_field_error(post_json(api_client, "/api/auth/register/", registration(**{field: value})), field)
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"), [("username", "a" * 151), ("password", "p" * (PASSWORD_MAX_LENGTH + 1)), ("username", "a\x00")]
)
def test_a_sign_in_with_a_field_beyond_its_bound_is_a_field_error(api_client, user, field, value):
    body = {"username": "alice", "password": PASSWORD, field: value}
    assert_field_error(post_json(api_client, "/api/auth/token/", body), field)


def test_a_refresh_token_beyond_its_bound_is_a_field_error(api_client):
    body = {"refresh": "x" * (REFRESH_TOKEN_MAX_LENGTH + 1)}
    assert_field_error(post_json(api_client, "/api/auth/token/refresh/", body), "refresh")
