import pytest
from django.contrib.auth.models import User

from commerce_core.identity.gateway_identity import META_KEY, sign_identity
from commerce_core.identity.principal import Principal

pytestmark = pytest.mark.django_db

URL = "/api/auth/me/"


def principal_for(user: User) -> Principal:
    return Principal(id=user.id, username=user.username, is_staff=user.is_staff)


def test_me_describes_the_caller_the_gateway_vouches_for(api_client, as_principal, user):
    as_principal(api_client, principal_for(user))

    response = api_client.get(URL)

    assert response.status_code == 200
    assert response.json() == {"id": user.id, "username": "alice", "email": "alice@example.com", "is_staff": False}


def test_an_anonymous_caller_is_told_to_authenticate(api_client):
    response = api_client.get(URL)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_forged_identity_header_is_anonymous(api_client, user):
    forged = sign_identity(principal_for(user), secret="not-the-gateway-key")
    api_client.credentials(**{META_KEY: forged})

    assert api_client.get(URL).status_code == 401


def test_a_bearer_token_without_the_gateway_is_anonymous(api_client, user):
    # Services trust only the gateway's header: the gateway is what checks JWTs.
    api_client.credentials(HTTP_AUTHORIZATION="Bearer whatever")

    assert api_client.get(URL).status_code == 401


def test_a_caller_whose_user_was_deactivated_since_is_a_401(api_client, as_principal, user):
    User.objects.filter(pk=user.pk).update(is_active=False)
    as_principal(api_client, principal_for(user))

    assert api_client.get(URL).status_code == 401
