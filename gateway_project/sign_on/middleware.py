"""The gateway's own pages under `/admin/`: who is signed on, for the entry, the
sign-in and the gateway's own admin (`/admin/gateway/`)."""

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.utils.functional import SimpleLazyObject

from commerce_core.operators.admin_site import ADMIN_PATH, admin_path

from . import sessions
from .auth_client import AuthUnavailable

GATEWAY_ADMIN_PATH = admin_path("gateway")


class SignedOnOperatorMiddleware(AuthenticationMiddleware):
    """`request.operator`: the staff member signed on at the gateway (a Principal), or
    None; only under /admin/. `request.user`: in the gateway's own admin, their local
    account (commerce_core.operators, as in every service); elsewhere anonymous,
    since the gateway's pages authenticate nobody by session alone.

    Django's AuthenticationMiddleware by type (the admin requires one), async only:
    confirming a session may ask the auth service."""

    sync_capable = False
    async_capable = True

    async def __call__(self, request):
        request.operator = None
        request.user = AnonymousUser()
        if request.path_info.startswith(ADMIN_PATH):
            try:
                request.operator = await sessions.current_operator(request.COOKIES.get(settings.SESSION_COOKIE_NAME))
            except AuthUnavailable:
                return HttpResponse(
                    "The auth service cannot confirm the sign-in now; retry shortly.",
                    status=503,
                    content_type="text/plain",
                )
            if request.operator is not None and request.path_info.startswith(GATEWAY_ADMIN_PATH):
                principal = request.operator
                # Read lazily, in the admin view's thread (the database is synchronous).
                request.user = SimpleLazyObject(
                    lambda: auth.authenticate(request, gateway_principal=principal) or AnonymousUser()
                )
        return await self.get_response(request)
