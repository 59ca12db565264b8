"""The auth service's admin behind the gateway: its user is the auth service's own
user the gateway vouches for, with the flags stored here, read on every request."""

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from commerce_core.identity.gateway_identity import META_KEY, sign_identity
from commerce_core.identity.principal import Principal
from commerce_core.operators.models import OperatorAccount

pytestmark = pytest.mark.django_db

USERS = "/admin/auth/auth/user/"


def client_as(user: User, **claims) -> Client:
    principal = Principal(id=user.pk, username=user.username, **{"is_staff": True, "is_superuser": True, **claims})
    return Client(**{META_KEY: sign_identity(principal, secret=settings.GATEWAY_IDENTITY_SECRET)})


@pytest.fixture
def olga(db):
    return User.objects.create_superuser(username="olga", email="olga@example.com", password="x-1234-abcd")


def test_the_admins_user_is_the_auth_services_own_user_not_a_copy(olga):
    page = client_as(olga).get(USERS)

    assert page.status_code == 200
    assert page.context["user"].pk == olga.pk
    assert not OperatorAccount.objects.exists()
    assert User.objects.count() == 1


def test_a_staff_member_demoted_or_deactivated_here_loses_this_admin_at_their_next_request(olga):
    client = client_as(olga)  # the header still says staff: the stored flags decide here
    assert client.get(USERS).status_code == 200

    User.objects.filter(pk=olga.pk).update(is_staff=False)
    assert client.get(USERS).status_code == 302
    User.objects.filter(pk=olga.pk).update(is_staff=True, is_active=False)
    assert client.get(USERS).status_code == 302


def test_a_header_naming_a_user_who_does_not_exist_here_opens_nothing(olga):
    ghost = User(pk=olga.pk + 100, username="ghost")

    assert client_as(ghost).get(USERS).status_code == 302


def test_passwords_are_checked_only_at_the_token_endpoint_never_by_the_admins_backend(olga):
    from django.contrib.auth import authenticate

    assert authenticate(None, username="olga", password="x-1234-abcd") == olga
    assert authenticate(None, gateway_principal=Principal(id=olga.pk, username="olga", is_staff=True)) == olga
    assert authenticate(None, username="olga", password="wrong") is None
