"""Who is using a service's admin: the staff member the gateway vouches for, per request."""

from functools import partial

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.middleware import SessionMiddleware
from django.utils.functional import SimpleLazyObject

from commerce_core.identity.gateway_identity import META_KEY, verify_identity
from commerce_core.web.middleware import PagesOnlyMixin

from .admin_site import ADMIN_PATH
from .sessions import RequestOnlySession


def operator_for(request):
    """The local account of the staff member named by the request's signed identity
    header, or AnonymousUser: no header, a forged or expired one, someone not staff,
    or a path outside the admin (the APIs authenticate with DRF, never with this)."""
    if not request.path_info.startswith(ADMIN_PATH):
        return AnonymousUser()
    value = request.META.get(META_KEY)
    principal = verify_identity(value, secret=settings.GATEWAY_IDENTITY_SECRET) if value else None
    if principal is None or not principal.is_staff:
        return AnonymousUser()
    return auth.authenticate(request, gateway_principal=principal) or AnonymousUser()


class GatewayOperatorMiddleware(PagesOnlyMixin, AuthenticationMiddleware):
    """Django's AuthenticationMiddleware (the admin requires it), reading the user from
    the gateway's signed header instead of a session. Evaluated lazily, like Django's:
    only a request that looks at `request.user` pays the lookup."""

    def process_request(self, request):
        request.user = SimpleLazyObject(lambda: operator_for(request))
        request.auser = partial(sync_to_async(operator_for), request)


class NoSessionMiddleware(PagesOnlyMixin, SessionMiddleware):
    """Django's SessionMiddleware (the admin requires it), with a session that is never
    stored and never sent as a cookie (`RequestOnlySession`)."""

    def process_request(self, request):
        request.session = RequestOnlySession()

    def process_response(self, request, response):
        return response
