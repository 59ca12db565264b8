"""The JSON API skips the session, user and message middleware that only the
admin's pages need; the admin keeps all three."""

import asyncio

from django.core import checks
from django.http import HttpResponse
from django.test import RequestFactory

from commerce_core.operators.middleware import GatewayOperatorMiddleware as AuthenticationMiddleware
from commerce_core.operators.middleware import NoSessionMiddleware as SessionMiddleware
from commerce_core.web.middleware import MessageMiddleware


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
