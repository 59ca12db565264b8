"""The JSON API skips the session, user and message middleware that only the
admin's pages need; the admin keeps all three, and its CSRF protection."""

import asyncio
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import checks
from django.http import HttpResponse
from django.test import Client, RequestFactory

from commerce_core.web.middleware import AuthenticationMiddleware, MessageMiddleware, SessionMiddleware


def through_middleware(path: str):
    """The request as the view sees it after the three middleware."""
    seen = {}

    def view(request):
        seen["request"] = request
        return HttpResponse("ok")

    chain = SessionMiddleware(AuthenticationMiddleware(MessageMiddleware(view)))
    response = chain(RequestFactory().get(path))
    assert response.status_code == 200
    return seen["request"]


def test_an_api_request_gets_no_session_user_or_messages():
    request = through_middleware("/api/bustest/items/")
    assert not hasattr(request, "session")
    assert not hasattr(request, "user")
    assert not hasattr(request, "_messages")


def test_a_page_request_gets_its_session_user_and_messages():
    request = through_middleware("/admin/")
    assert hasattr(request, "session")
    assert request.user.is_anonymous
    assert hasattr(request, "_messages")


def test_under_asgi_too_an_api_request_skips_them_and_a_page_request_gets_them():
    seen = {}

    async def view(request):
        seen[request.path] = request
        return HttpResponse("ok")

    chain = SessionMiddleware(AuthenticationMiddleware(MessageMiddleware(view)))
    for path in ("/api/bustest/items/", "/admin/"):
        assert asyncio.run(chain(RequestFactory().get(path))).status_code == 200
    assert not hasattr(seen["/api/bustest/items/"], "session")
    assert hasattr(seen["/admin/"], "session") and hasattr(seen["/admin/"], "_messages")


def test_the_admin_checks_accept_the_middleware():
    codes = {message.id for message in checks.run_checks()}
    assert not codes & {"admin.E408", "admin.E409", "admin.E410"}


@pytest.mark.django_db
def test_staff_sign_in_to_the_admin_with_a_csrf_token():
    get_user_model().objects.create_superuser("operator", "operator@example.com", "a-long-password-123")
    client = Client(enforce_csrf_checks=True)
    credentials = {"username": "operator", "password": "a-long-password-123", "next": "/admin/"}

    assert client.post("/admin/login/", credentials).status_code == 403  # no CSRF token

    page = client.get("/admin/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()
    signed_in = client.post("/admin/login/", {**credentials, "csrfmiddlewaretoken": token})
    assert signed_in.status_code == 302
    assert client.get("/admin/").status_code == 200
