"""The gateway's HTTP entry point, a raw ASGI application.

A path under a service's prefix goes to `Proxy`, which does at the edge what every
request needs and forwards it; everything else (`/health`, `/api/schema/`,
`/api/docs/`, `/static/`, the admin, 404s) goes to Django. Proxied requests never
enter Django's request cycle: that cycle alone costs more than the whole proxying.
"""

import itertools
import logging
import os
import time

from django.conf import settings

from commerce_core.web.request_id import well_formed_or_new

from .body import BodyTooLarge, ClientGone, ClientTooSlow, read_body
from .connection import UpstreamError, UpstreamTimeout
from .forward import exchange, relay_response
from .headers import ClientHeaders, FramingError, upstream_request_head
from .identity import EdgeIdentity, InvalidToken, SignedIdentity
from .pool import close_pools, pool_for
from .rate_limits import ADMITTED, EdgeRateLimits, close_rate_limiters, retry_after_header
from .responses import EdgeAnswer
from .routes import Route, RouteTable

logger = logging.getLogger(__name__)

# Ids for requests that come without one: a random per-process prefix and a counter,
# as unique as uuid4 across processes at a tenth of its cost (no getrandom call each).
_ID_PREFIX = os.urandom(8).hex().encode("ascii")
_id_counter = itertools.count()

_BEARER_ERROR = ((b"www-authenticate", b'Bearer error="invalid_token"'),)


def new_request_id() -> bytes:
    return b"%s%016x" % (_ID_PREFIX, next(_id_counter))


class Proxy:
    """Forwards one request, in named steps: its id, its framing, who is calling,
    its rate limits, its body, the exchange with the service, and the response
    back. A step that refuses raises `EdgeAnswer`, which becomes the client's answer."""

    def __init__(
        self,
        routes: RouteTable,
        *,
        identity: EdgeIdentity,
        max_body_bytes: int,
        client_body_timeout: float = 10.0,
        rate_limits: EdgeRateLimits | None = None,
    ):
        self.routes = routes
        self.identity = identity
        self.max_body_bytes = max_body_bytes
        self.client_body_timeout = client_body_timeout
        self.rate_limits = rate_limits

    @classmethod
    def from_settings(cls) -> "Proxy":
        options = settings.GATEWAY
        identity = EdgeIdentity(
            jwt_secret=settings.JWT_SECRET,
            identity_secret=settings.GATEWAY_IDENTITY_SECRET,
            cache_seconds=options["IDENTITY_CACHE_SECONDS"],
        )
        return cls(
            RouteTable.from_topology(),
            identity=identity,
            max_body_bytes=options["MAX_BODY_BYTES"],
            client_body_timeout=options["CLIENT_BODY_TIMEOUT"],
            rate_limits=EdgeRateLimits.from_settings(options["RATE_LIMITS"], redis_url=settings.REDIS_URL),
        )

    async def __call__(self, route: Route, scope, receive, send) -> None:
        client_headers = ClientHeaders.read(scope["headers"])
        request_id = self._request_id(client_headers)
        try:
            self._check_framing(client_headers, scope)
            identity = self._identity(client_headers)
            if self.rate_limits is not None:
                await self._within_rate_limits(scope, client_headers, identity)
            body = await self._body(client_headers, receive) if client_headers.has_body else b""
            conn = await self._exchange(route, scope, client_headers, request_id, identity, body)
        except EdgeAnswer as answer:
            await answer.send(send, request_id)
            return
        except ClientGone:
            return
        head_only = scope["method"] == "HEAD"
        pool = pool_for(route.origin)
        await relay_response(conn, pool, send, request_id=request_id, head_only=head_only, timeout=route.timeout)

    # --- the steps ------------------------------------------------------------------------
    @staticmethod
    def _request_id(client_headers: ClientHeaders) -> bytes:
        """The client's id when well formed, else a new one; used on both sides."""
        sent = client_headers.request_id
        if sent is None:
            return new_request_id()
        return well_formed_or_new(sent.decode("latin-1")).encode("ascii")

    @staticmethod
    def _check_framing(client_headers: ClientHeaders, scope) -> None:
        try:
            client_headers.check_framing(scope["http_version"])
        except FramingError as exc:
            # The rest of the connection's bytes cannot be trusted to start a request.
            raise EdgeAnswer(400, "bad_request", str(exc), close=True) from None

    def _identity(self, client_headers: ClientHeaders) -> SignedIdentity | None:
        """The signed identity for the caller's bearer token (None: anonymous)."""
        if client_headers.authorization is None:
            return None
        try:
            return self.identity.signed_identity(client_headers.authorization)
        except InvalidToken:
            raise EdgeAnswer(
                401, "invalid_token", "The access token is invalid or has expired.", headers=_BEARER_ERROR
            ) from None

    async def _within_rate_limits(self, scope, client_headers: ClientHeaders, identity: SignedIdentity | None) -> None:
        limits = self.rate_limits
        client = scope.get("client")
        address = client[0] if client else None
        subject = limits.subject(identity.user_id if identity is not None else None, address)
        wait = limits.local_verdict(scope["method"], scope["path"], subject)
        if wait == ADMITTED:
            return
        if wait is None:
            wait = await limits.retry_after(scope["method"], scope["path"], subject, client_address=address)
        if wait is not None:
            retry_after = retry_after_header(wait)
            raise EdgeAnswer(
                429,
                "rate_limited",
                f"Too many requests; retry in {retry_after.decode()} s.",
                headers=((b"retry-after", retry_after),),
                # Its body, if any, is never read: the connection cannot carry another request.
                close=client_headers.has_body,
            )

    async def _body(self, client_headers: ClientHeaders, receive) -> bytes:
        try:
            return await read_body(
                receive,
                declared_length=client_headers.declared_length,
                chunked=client_headers.chunked,
                limit=self.max_body_bytes,
                deadline=self.client_body_timeout,
            )
        except BodyTooLarge:
            raise EdgeAnswer(
                413, "payload_too_large", f"The request body exceeds {self.max_body_bytes} bytes.", close=True
            ) from None
        except ClientTooSlow:
            raise EdgeAnswer(
                408, "request_timeout", f"The request body took longer than {self.client_body_timeout:g} s.", close=True
            ) from None

    async def _exchange(
        self, route: Route, scope, client_headers, request_id: bytes, identity: SignedIdentity | None, body: bytes
    ):
        """Send the request to the service; its connection once the response head is in."""
        method = scope["method"]
        head = upstream_request_head(
            scope,
            client_headers,
            route=route,
            request_id=request_id,
            identity=identity.header if identity is not None else None,
            body_length=len(body),
            started_at=b"%.3f" % time.time(),
        )
        try:
            return await exchange(
                pool_for(route.origin), request=head + body if body else head, method=method, timeout=route.timeout
            )
        except UpstreamTimeout:
            logger.warning(
                "%s %s: the %s service timed out, request %s", method, scope["path"], route.service, request_id.decode()
            )
            raise EdgeAnswer(504, "upstream_timeout", f"The {route.service} service did not answer in time.") from None
        except (OSError, UpstreamError) as exc:
            logger.warning(
                "%s %s: the %s service is unavailable (%s), request %s",
                method,
                scope["path"],
                route.service,
                exc,
                request_id.decode(),
            )
            raise EdgeAnswer(502, "upstream_unavailable", f"The {route.service} service is unavailable.") from None


class GatewayHTTP:
    """ASGI app for the `http` scope: service prefixes to the proxy, the rest to `fallback`."""

    def __init__(self, *, proxy: Proxy, fallback):
        self.proxy = proxy
        self.fallback = fallback
        self._match = proxy.routes.match

    async def __call__(self, scope, receive, send) -> None:
        route = self._match(scope["path"])
        if route is None:
            await self.fallback(scope, receive, send)
        else:
            await self.proxy(route, scope, receive, send)


async def lifespan(scope, receive, send) -> None:
    """ASGI lifespan: closes pooled upstream connections and Redis clients when the server stops."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            close_pools()
            await close_rate_limiters()
            await send({"type": "lifespan.shutdown.complete"})
            return
