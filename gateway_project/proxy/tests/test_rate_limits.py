"""Rate limits at the gateway, against a real Redis (REDIS_URL, keys of this test
run only, which expire by themselves)."""

import uuid

import pytest
from django.conf import settings as django_settings

from proxy.app import GatewayHTTP, Proxy
from proxy.identity import EdgeIdentity
from proxy.pool import Origin
from proxy.rate_limits import EdgeRateLimits, Limit, RateLimiter
from proxy.routes import Route, RouteTable

pytestmark = pytest.mark.anyio

SLOW = 0.001  # requests per second: nothing is given back during a test


@pytest.fixture
async def limiter():
    made = []

    def make(redis_url: str | None = None, *, prefix: str | None = None) -> RateLimiter:
        made.append(
            RateLimiter(redis_url or django_settings.REDIS_URL, key_prefix=prefix or f"test-{uuid.uuid4().hex}:")
        )
        return made[-1]

    yield make
    for each in made:
        await each.aclose()


@pytest.fixture
def limited_gateway(settings, stub_upstream, limiter):
    """The gateway with /api/catalog/ and /api/auth/ routed to the stub, under the given limits."""

    def make(*, requests=(SLOW, 1000), sign_ins=(SLOW, 1000), sign_ups=(SLOW, 1000), redis_url=None):
        origin = Origin.from_url(stub_upstream.url)
        routes = RouteTable([Route("catalog", "/api/catalog/", origin, 5.0), Route("auth", "/api/auth/", origin, 5.0)])
        limits = EdgeRateLimits(
            limiter(redis_url),
            requests=Limit("requests", *requests, leased=True),
            sign_ins=Limit("sign_ins", *sign_ins),
            sign_ups=Limit("sign_ups", *sign_ups),
        )
        identity = EdgeIdentity(jwt_secret=settings.JWT_SECRET, identity_secret=settings.GATEWAY_IDENTITY_SECRET)
        proxy = Proxy(routes, identity=identity, max_body_bytes=1024, rate_limits=limits)
        return GatewayHTTP(proxy=proxy, fallback=None)

    return make


async def _statuses(gateway, asgi_request, count, *args, **kwargs) -> list[int]:
    return [(await asgi_request(gateway, *args, **kwargs)).status for _ in range(count)]


async def test_requests_past_the_burst_get_429_with_retry_after_and_none_before(
    limited_gateway, stub_upstream, asgi_request
):
    gateway = limited_gateway(requests=(SLOW, 5))

    statuses = await _statuses(gateway, asgi_request, 5, "GET", "/api/catalog/products/")
    refused = await asgi_request(gateway, "GET", "/api/catalog/products/")

    assert statuses == [200] * 5
    assert refused.status == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused.header("retry-after")) >= 1
    assert len(stub_upstream.requests) == 5


async def test_each_user_and_each_client_address_has_an_allowance_of_its_own(
    limited_gateway, asgi_request, access_token
):
    gateway = limited_gateway(requests=(SLOW, 2))
    ada = [("authorization", f"Bearer {access_token(1)}")]
    grace = [("authorization", f"Bearer {access_token(2)}")]

    assert await _statuses(gateway, asgi_request, 3, "GET", "/api/catalog/", headers=ada) == [200, 200, 429]
    assert await _statuses(gateway, asgi_request, 3, "GET", "/api/catalog/", headers=grace) == [200, 200, 429]
    here, there = ("198.51.100.1", 4000), ("198.51.100.2", 4000)
    assert await _statuses(gateway, asgi_request, 3, "GET", "/api/catalog/", client=here) == [200, 200, 429]
    assert await _statuses(gateway, asgi_request, 3, "GET", "/api/catalog/", client=there) == [200, 200, 429]


@pytest.mark.parametrize("path", ["/api/auth/token/", "/api/auth/register/"])
async def test_sign_ins_and_sign_ups_have_a_stricter_limit_than_other_requests(limited_gateway, asgi_request, path):
    gateway = limited_gateway(requests=(SLOW, 100), sign_ins=(SLOW, 3), sign_ups=(SLOW, 3))

    attempts = await _statuses(gateway, asgi_request, 4, "POST", path, body=b"{}", headers=[("content-length", "2")])
    others = await _statuses(gateway, asgi_request, 3, "GET", "/api/catalog/products/")

    assert attempts == [200, 200, 200, 429]
    assert others == [200, 200, 200]


async def test_a_refused_request_with_a_body_closes_the_connection(limited_gateway, asgi_request):
    gateway = limited_gateway(sign_ups=(SLOW, 1))
    await asgi_request(gateway, "POST", "/api/auth/register/", body=b"{}", headers=[("content-length", "2")])

    refused = await asgi_request(gateway, "POST", "/api/auth/register/", body=b"{}", headers=[("content-length", "2")])

    assert refused.status == 429
    assert refused.header("connection") == "close"


async def test_leased_allowances_of_several_processes_never_exceed_the_burst_together(limiter):
    prefix = f"test-{uuid.uuid4().hex}:"
    processes = [limiter(prefix=prefix), limiter(prefix=prefix)]
    limit = Limit("requests", SLOW, 100, leased=True)

    allowed = 0
    for n in range(200):
        if await processes[n % 2].retry_after(limit, b"a:203.0.113.9") is None:
            allowed += 1

    # Leases a process took but did not spend are lost, never doubled.
    assert 100 - 2 * limit.max_lease <= allowed <= 100


async def test_a_subject_served_by_one_process_is_limited_exactly(limiter):
    process = limiter()
    limit = Limit("requests", SLOW, 40, leased=True)

    verdicts = [await process.retry_after(limit, b"u:7") for _ in range(41)]

    assert verdicts[:40] == [None] * 40
    assert verdicts[40] is not None


async def test_requests_go_through_when_redis_is_unreachable(limited_gateway, asgi_request, free_port):
    gateway = limited_gateway(requests=(SLOW, 1), redis_url=f"redis://127.0.0.1:{free_port}/0")

    assert await _statuses(gateway, asgi_request, 3, "GET", "/api/catalog/") == [200, 200, 200]


async def test_concurrent_requests_of_one_subject_in_one_process_get_the_whole_allowance_and_no_more(limiter):
    import asyncio

    process = limiter()
    limit = Limit("requests", SLOW, 200, leased=True)

    verdicts = await asyncio.gather(*[process.retry_after(limit, b"a:203.0.113.10") for _ in range(200)])
    after = await process.retry_after(limit, b"a:203.0.113.10")

    assert verdicts == [None] * 200
    assert after is not None


async def test_a_refused_subject_is_refused_without_asking_redis_until_it_may_come_back(limiter):
    import asyncio

    process = limiter()
    limit = Limit("sign_ins", 20.0, 1)  # one at once, then one per 50 ms
    asked = []
    ask = process._ask

    async def counted(*args):
        asked.append(args)
        return await ask(*args)

    process._ask = counted

    assert await process.retry_after(limit, b"a:203.0.113.11") is None
    refusals = [await process.retry_after(limit, b"a:203.0.113.11") for _ in range(50)]
    assert all(wait is not None and 0 < wait <= 0.05 for wait in refusals)
    assert len(asked) == 2  # the admission and the first refusal
    await asyncio.sleep(0.06)
    assert await process.retry_after(limit, b"a:203.0.113.11") is None
