import pytest

from proxy.app import GatewayHTTP, Proxy
from proxy.identity import EdgeIdentity
from proxy.pool import Origin, close_pools
from proxy.routes import Route, RouteTable


async def _not_proxied(scope, receive, send):
    await send({"type": "http.response.start", "status": 418, "headers": []})
    await send({"type": "http.response.body", "body": b"not proxied"})


@pytest.fixture
def make_gateway(settings):
    """The gateway's HTTP app with /api/catalog/ routed to `upstream_url`."""

    def make(
        upstream_url: str, *, timeout: float = 5.0, max_body_bytes: int = 1024, client_body_timeout: float = 5.0
    ) -> GatewayHTTP:
        route = Route(service="catalog", prefix="/api/catalog/", origin=Origin.from_url(upstream_url), timeout=timeout)
        identity = EdgeIdentity(jwt_secret=settings.JWT_SECRET, identity_secret=settings.GATEWAY_IDENTITY_SECRET)
        proxy = Proxy(
            RouteTable([route]),
            identity=identity,
            max_body_bytes=max_body_bytes,
            client_body_timeout=client_body_timeout,
        )
        return GatewayHTTP(proxy=proxy, fallback=_not_proxied)

    return make


@pytest.fixture(autouse=True)
async def _idle_connections_closed_after_each_test():
    yield
    close_pools()


@pytest.fixture
def gateway(make_gateway, stub_upstream):
    return make_gateway(stub_upstream.url)
