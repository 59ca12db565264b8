"""DRF authentication for services: the caller is whoever the gateway's signed
identity header says, and anonymous otherwise (never an error, so a request
that reached a service directly is simply treated as anonymous)."""

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication

from .gateway_identity import META_KEY, verify_identity


class GatewayIdentityAuthentication(BaseAuthentication):
    def authenticate(self, request):
        value = request.META.get(META_KEY)
        if not value:
            return None
        principal = verify_identity(value, secret=settings.GATEWAY_IDENTITY_SECRET)
        if principal is None:
            return None
        return principal, None

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) to anonymous callers of protected views.
        return 'Bearer realm="api"'


class GatewayIdentitySchema(OpenApiAuthenticationExtension):
    """Documents the gateway identity as what clients actually send: a bearer JWT
    (the gateway turns it into the signed header)."""

    target_class = GatewayIdentityAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
