"""`/admin/<service>/...`: that service's own Django admin, for signed-on staff only.

An ASGI layer in front of Django: a path under a service's admin is forwarded by the
proxy (proxy/app.py, with its framing, limits and timeouts), unchanged, as the
signed-on operator: the same signed `X-Gateway-Identity` header the APIs trust,
from which the service's admin authenticates the request (commerce_core.operators).
Without a signed-on staff member the request never reaches the service: it is
redirected to the sign-in. Everything else goes on to `app` (Django).

What the service receives of the browser's credentials: none. The session cookie is
taken out of the `Cookie` header (the admin's CSRF and message cookies stay), and
`Authorization` is dropped; no token of the auth service ever reaches a service.
"""

from dataclasses import replace
from urllib.parse import urlencode

from django.conf import settings
from proxy.app import Proxy, new_request_id
from proxy.identity import SignedIdentity
from proxy.responses import EdgeAnswer
from proxy.routes import RouteTable, route_for

from commerce_core.identity.gateway_identity import sign_identity
from commerce_core.operators.admin_site import SIGN_IN_URL, admin_path
from commerce_core.settings.topology import SERVICES
from commerce_core.web.request_id import well_formed_or_new

from . import sessions
from .auth_client import AuthUnavailable

_COOKIE = b"cookie"
_AUTHORIZATION = b"authorization"
_REQUEST_ID = b"x-request-id"


class OperatorGate:
    def __init__(self, proxy: Proxy, app, *, routes: RouteTable, identity_secret: str, session_cookie: str):
        self.proxy = proxy
        self.app = app
        self.routes = routes
        self._identity_secret = identity_secret
        self._session_cookie = session_cookie.encode("latin-1")

    @classmethod
    def from_settings(cls, proxy: Proxy, app) -> "OperatorGate":
        admins = RouteTable([replace(route_for(project), prefix=admin_path(project.name)) for project in SERVICES])
        return cls(
            proxy,
            app,
            routes=admins,
            identity_secret=settings.GATEWAY_IDENTITY_SECRET,
            session_cookie=settings.SESSION_COOKIE_NAME,
        )

    async def __call__(self, scope, receive, send) -> None:
        route = self.routes.match(scope["path"]) if scope["type"] == "http" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        session_key, headers = self._take_credentials(scope["headers"])
        try:
            operator = await sessions.current_operator(session_key)
        except AuthUnavailable:
            answer = EdgeAnswer(
                503, "auth_unavailable", "The auth service cannot confirm the sign-in now; retry shortly."
            )
            await answer.send(send, self._request_id(scope))
            return
        if operator is None:
            await self._to_sign_in(scope, send)
            return
        signed = SignedIdentity(sign_identity(operator, secret=self._identity_secret).encode("ascii"), operator.id)
        await self.proxy(route, {**scope, "headers": headers}, receive, send, operator=signed)

    def _take_credentials(self, headers) -> tuple[str | None, list[tuple[bytes, bytes]]]:
        """The session key from the cookies, and the headers without it and without `Authorization`."""
        session_key = None
        kept = []
        for name, value in headers:
            if name == _AUTHORIZATION:
                continue
            if name == _COOKIE:
                others = []
                for pair in value.split(b";"):
                    cookie_name, _, cookie_value = pair.strip().partition(b"=")
                    if cookie_name == self._session_cookie:
                        session_key = cookie_value.strip(b'"').decode("latin-1") or None
                    elif cookie_name:
                        others.append(pair.strip())
                if others:
                    kept.append((name, b"; ".join(others)))
                continue
            kept.append((name, value))
        return session_key, kept

    @staticmethod
    def _request_id(scope) -> bytes:
        for name, value in scope["headers"]:
            if name == _REQUEST_ID:
                return well_formed_or_new(value.decode("latin-1")).encode("ascii")
        return new_request_id()

    async def _to_sign_in(self, scope, send) -> None:
        target = scope["path"] + (f"?{scope['query_string'].decode('latin-1')}" if scope["query_string"] else "")
        headers = [
            (b"location", f"{SIGN_IN_URL}?{urlencode({'next': target})}".encode("latin-1")),
            (b"cache-control", b"no-store"),
            (b"content-length", b"0"),
            (b"x-request-id", self._request_id(scope)),
        ]
        if any(
            name == b"transfer-encoding" or (name == b"content-length" and value.strip(b"0 "))
            for name, value in scope["headers"]
        ):
            headers.append((b"connection", b"close"))  # its body is never read
        await send({"type": "http.response.start", "status": 302, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
