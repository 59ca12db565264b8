"""The gateway's HTTP entry point, a raw ASGI application.

A path under a service's prefix goes to `Proxy`, which does at the edge what every
request needs (request id, identity, body limit, header hygiene) and forwards it;
everything else (`/health`, `/api/schema/`, `/api/docs/`, `/static/`, the admin,
404s) goes to Django. Proxied requests never enter Django's request cycle: that
cycle alone costs more than the whole proxying.
"""

import itertools
import logging
import os

from django.conf import settings

from commerce_core.web.request_id import well_formed_or_new

from .connection import UpstreamError, UpstreamTimeout
from .forward import IDEMPOTENT_METHODS, REPLAY_LIMIT, BodyTooLarge, ClientGone, RequestBody, exchange, relay_response
from .headers import ClientHeaders, upstream_request_head
from .identity import EdgeIdentity, InvalidToken
from .pool import close_pools, pool_for
from .responses import send_error
from .routes import Route, RouteTable

logger = logging.getLogger(__name__)

_CLOSE = ((b"connection", b"close"),)

# Ids for requests that come without one: a random per-process prefix and a counter,
# as unique as uuid4 across processes at a tenth of its cost (no getrandom call each).
_ID_PREFIX = os.urandom(8).hex().encode("ascii")
_id_counter = itertools.count()


def new_request_id() -> bytes:
    return b"%s%016x" % (_ID_PREFIX, next(_id_counter))


class Proxy:
    def __init__(self, routes: RouteTable, *, identity: EdgeIdentity, max_body_bytes: int):
        self.routes = routes
        self.identity = identity
        self.max_body_bytes = max_body_bytes

    @classmethod
    def from_settings(cls) -> "Proxy":
        identity = EdgeIdentity(
            jwt_secret=settings.JWT_SECRET,
            identity_secret=settings.GATEWAY_IDENTITY_SECRET,
            cache_seconds=settings.GATEWAY["IDENTITY_CACHE_SECONDS"],
        )
        return cls(RouteTable.from_topology(), identity=identity, max_body_bytes=settings.GATEWAY["MAX_BODY_BYTES"])

    async def __call__(self, route: Route, scope, receive, send) -> None:
        client_headers = ClientHeaders.read(scope["headers"])
        request_id = client_headers.request_id
        if request_id is None:
            request_id = new_request_id()
        else:
            request_id = well_formed_or_new(request_id.decode("latin-1")).encode("ascii")

        identity = None
        if client_headers.authorization is not None:
            try:
                identity = self.identity.signed_identity(client_headers.authorization)
            except InvalidToken:
                await send_error(
                    send,
                    401,
                    "invalid_token",
                    "The access token is invalid or has expired.",
                    request_id,
                    extra_headers=((b"www-authenticate", b'Bearer error="invalid_token"'),),
                )
                return

        method = scope["method"]
        # Only a request that may be retried keeps its (small) body for a replay.
        replayable = method in IDEMPOTENT_METHODS
        body = None
        chunked = client_headers.chunked
        if client_headers.content_length is not None:
            try:
                declared = int(client_headers.content_length)
            except ValueError:
                await send_error(send, 400, "bad_request", "Invalid Content-Length.", request_id, extra_headers=_CLOSE)
                return
            if declared > self.max_body_bytes:
                await self._too_large(send, request_id)
                return
            chunked = False
            if declared:
                body = RequestBody(
                    receive,
                    limit=self.max_body_bytes,
                    chunked=False,
                    replayable=replayable and declared <= REPLAY_LIMIT,
                )
        elif chunked:
            body = RequestBody(receive, limit=self.max_body_bytes, chunked=True, replayable=replayable)

        head = upstream_request_head(
            scope, client_headers, route=route, request_id=request_id, identity=identity, chunked=chunked
        )
        pool = pool_for(route.origin)
        try:
            conn = await exchange(pool, head=head, body=body, method=method, timeout=route.timeout)
        except UpstreamTimeout:
            logger.warning(
                "%s %s: the %s service timed out, request %s", method, scope["path"], route.service, request_id.decode()
            )
            await send_error(
                send, 504, "upstream_timeout", f"The {route.service} service did not answer in time.", request_id
            )
            return
        except BodyTooLarge:
            await self._too_large(send, request_id)
            return
        except ClientGone:
            return
        except (OSError, UpstreamError) as exc:
            logger.warning(
                "%s %s: the %s service is unavailable (%s), request %s",
                method,
                scope["path"],
                route.service,
                exc,
                request_id.decode(),
            )
            await send_error(
                send, 502, "upstream_unavailable", f"The {route.service} service is unavailable.", request_id
            )
            return
        await relay_response(conn, pool, send, request_id=request_id, head_only=method == "HEAD", timeout=route.timeout)

    async def _too_large(self, send, request_id: bytes) -> None:
        # The rest of the body is never read, so the client connection cannot be reused.
        await send_error(
            send,
            413,
            "payload_too_large",
            f"The request body exceeds {self.max_body_bytes} bytes.",
            request_id,
            extra_headers=_CLOSE,
        )


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
    """ASGI lifespan: closes pooled upstream connections when the server stops."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            close_pools()
            await send({"type": "lifespan.shutdown.complete"})
            return
