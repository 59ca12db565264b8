import pytest
from django.conf import settings
from django.contrib.auth.models import User

from commerce_core.identity.access_tokens import InvalidToken, principal_from_access_token

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/auth/token/"
REFRESH_URL = "/api/auth/token/refresh/"


def principal_of(access: str):
    return principal_from_access_token(access, secret=settings.JWT_SECRET, algorithm=settings.JWT_ALGORITHM)


def obtain(client, username="alice", password=PASSWORD):
    return client.post(TOKEN_URL, {"username": username, "password": password}, format="json")


def test_the_right_credentials_get_an_access_and_a_refresh_token(api_client, user):
    response = obtain(api_client)

    assert response.status_code == 200, response.content
    assert set(response.json()) == {"access", "refresh"}


def test_the_access_token_is_one_the_gateway_accepts_with_username_and_staff_claims(api_client, user):
    user.is_staff = True
    user.save()

    principal = principal_of(obtain(api_client).json()["access"])

    assert (principal.id, principal.username, principal.is_staff) == (user.id, "alice", True)


def test_the_access_token_says_whether_the_user_is_a_superuser_and_a_refresh_picks_up_a_change(api_client, user):
    User.objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
    tokens = obtain(api_client).json()
    User.objects.filter(pk=user.pk).update(is_superuser=False)

    refreshed = api_client.post(REFRESH_URL, {"refresh": tokens["refresh"]}, format="json").json()["access"]

    assert principal_of(tokens["access"]).is_superuser is True
    assert principal_of(refreshed).is_superuser is False


def test_the_refresh_token_is_not_accepted_as_an_access_token(api_client, user):
    with pytest.raises(InvalidToken):
        principal_of(obtain(api_client).json()["refresh"])


def test_the_username_matches_in_any_case(api_client, user):
    response = obtain(api_client, username="Alice")

    assert response.status_code == 200
    assert principal_of(response.json()["access"]).username == "alice"


def test_a_wrong_password_is_a_401_in_the_common_shape(api_client, user):
    response = obtain(api_client, password="not-the-password")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "no_active_account"


def test_an_unknown_user_is_a_401(api_client, db):
    assert obtain(api_client, username="nobody").status_code == 401


def test_an_inactive_user_gets_no_token(api_client, user):
    user.is_active = False
    user.save()

    assert obtain(api_client).status_code == 401


def test_missing_credentials_are_field_errors(api_client, db):
    response = api_client.post(TOKEN_URL, {}, format="json")

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"username", "password"}


def test_refreshing_gives_an_access_token_with_the_same_claims(api_client, user):
    user.is_staff = True
    user.save()
    refresh = obtain(api_client).json()["refresh"]

    response = api_client.post(REFRESH_URL, {"refresh": refresh}, format="json")

    assert response.status_code == 200, response.content
    assert set(response.json()) == {"access"}
    principal = principal_of(response.json()["access"])
    assert (principal.id, principal.username, principal.is_staff) == (user.id, "alice", True)


def test_refreshing_picks_up_a_change_of_staff_status(api_client, user):
    refresh = obtain(api_client).json()["refresh"]
    User.objects.filter(pk=user.pk).update(is_staff=True, username="alice2")

    access = api_client.post(REFRESH_URL, {"refresh": refresh}, format="json").json()["access"]

    principal = principal_of(access)
    assert (principal.username, principal.is_staff) == ("alice2", True)


@pytest.mark.parametrize("refresh", ["not-a-jwt", "a.b.c"])
def test_a_bad_refresh_token_is_a_401(api_client, db, refresh):
    response = api_client.post(REFRESH_URL, {"refresh": refresh}, format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_not_valid"


def test_an_access_token_cannot_be_used_to_refresh(api_client, user):
    access = obtain(api_client).json()["access"]

    assert api_client.post(REFRESH_URL, {"refresh": access}, format="json").status_code == 401


def test_a_refresh_token_of_a_deactivated_user_is_a_401(api_client, user):
    refresh = obtain(api_client).json()["refresh"]
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert api_client.post(REFRESH_URL, {"refresh": refresh}, format="json").status_code == 401


def test_a_refresh_token_of_a_deleted_user_is_a_401(api_client, user):
    refresh = obtain(api_client).json()["refresh"]
    user.delete()

    assert api_client.post(REFRESH_URL, {"refresh": refresh}, format="json").status_code == 401
