import asyncio
import time

import pytest
from conftest import StubResponse

pytestmark = pytest.mark.anyio


async def test_a_service_that_refuses_connections_gets_502_in_the_error_shape(make_gateway, free_port, asgi_request):
    gateway = make_gateway(f"http://127.0.0.1:{free_port}")
    response = await asgi_request(gateway, "GET", "/api/catalog/products/", headers=[("x-request-id", "trace-0001")])
    assert response.status == 502
    assert response.json() == {
        "error": {"code": "upstream_unavailable", "message": "The catalog service is unavailable."}
    }
    assert response.header("x-request-id") == "trace-0001"


async def test_a_service_that_closes_a_new_connection_without_answering_gets_502(gateway, stub_upstream, asgi_request):
    async def hang_up(request):
        return None

    stub_upstream.handler = hang_up
    response = await asgi_request(gateway, "GET", "/api/catalog/products/")
    assert response.status == 502
    assert len(stub_upstream.requests) == 1  # a fresh connection that failed is not retried


async def test_a_service_slower_than_the_route_timeout_gets_504(make_gateway, stub_upstream, asgi_request):
    async def too_slow(request):
        await asyncio.sleep(2)
        return StubResponse()

    stub_upstream.handler = too_slow
    gateway = make_gateway(stub_upstream.url, timeout=0.2)
    started = time.monotonic()
    response = await asgi_request(gateway, "GET", "/api/catalog/products/")
    assert response.status == 504
    assert response.json()["error"]["code"] == "upstream_timeout"
    assert time.monotonic() - started < 1.5


async def test_a_declared_body_over_the_limit_gets_413_without_contacting_the_service(
    make_gateway, stub_upstream, asgi_request
):
    gateway = make_gateway(stub_upstream.url, max_body_bytes=100)
    response = await asgi_request(
        gateway, "POST", "/api/catalog/products/", body=b"x" * 101, headers=[("content-length", "101")]
    )
    assert response.status == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert response.header("connection") == "close"
    assert stub_upstream.requests == []


async def test_a_streamed_body_that_grows_over_the_limit_gets_413(make_gateway, stub_upstream, asgi_request):
    gateway = make_gateway(stub_upstream.url, max_body_bytes=100)
    response = await asgi_request(
        gateway,
        "POST",
        "/api/catalog/products/",
        body=[b"x" * 60, b"x" * 60],
        headers=[("transfer-encoding", "chunked")],
    )
    assert response.status == 413
    assert stub_upstream.requests == []  # the service never saw a complete request


async def test_a_body_exactly_at_the_limit_is_forwarded(make_gateway, stub_upstream, asgi_request):
    gateway = make_gateway(stub_upstream.url, max_body_bytes=100)
    response = await asgi_request(
        gateway,
        "POST",
        "/api/catalog/products/",
        body=[b"x" * 50, b"x" * 50],
        headers=[("transfer-encoding", "chunked")],
    )
    assert response.status == 200
    assert stub_upstream.requests[0].body == b"x" * 100


def _closes_reused_connections(stub):
    """The server side of the keep-alive race: a connection is closed as the next request arrives."""

    async def answer(request):
        return None if request.nth_on_connection > 1 else StubResponse()

    stub.handler = answer


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"])
async def test_an_idempotent_request_on_a_stale_keep_alive_connection_is_retried_on_a_new_one(
    gateway, stub_upstream, asgi_request, method
):
    _closes_reused_connections(stub_upstream)
    assert (await asgi_request(gateway, "GET", "/api/catalog/products/")).status == 200
    response = await asgi_request(
        gateway,
        method,
        "/api/catalog/products/1/",
        body=b"{}" if method == "PUT" else b"",
        headers=[("content-length", "2")] if method == "PUT" else [],
    )
    assert response.status == 200
    assert stub_upstream.connections == 2
    assert [r.nth_on_connection for r in stub_upstream.requests] == [1, 2, 1]
    if method == "PUT":
        assert stub_upstream.requests[-1].body == b"{}"


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_a_non_idempotent_request_on_a_stale_connection_is_not_retried(
    gateway, stub_upstream, asgi_request, method
):
    _closes_reused_connections(stub_upstream)
    assert (await asgi_request(gateway, "GET", "/api/catalog/products/")).status == 200
    response = await asgi_request(
        gateway, method, "/api/catalog/products/", body=b"{}", headers=[("content-length", "2")]
    )
    assert response.status == 502
    assert len(stub_upstream.requests) == 2


async def test_a_request_is_not_retried_once_the_service_began_to_answer(gateway, stub_upstream, asgi_request):
    async def answer(request):
        if request.nth_on_connection > 1:
            return StubResponse(body=[b"partial", b"never sent"], hang_up_after=1)
        return StubResponse()

    stub_upstream.handler = answer
    await asgi_request(gateway, "GET", "/api/catalog/products/")
    response = await asgi_request(gateway, "GET", "/api/catalog/products/")
    assert response.status == 200
    assert response.body == b"partial"  # cut short, never completed as if whole
    assert len(stub_upstream.requests) == 2


async def test_a_connection_closed_by_the_service_while_idle_is_not_reused(gateway, stub_upstream, asgi_request):
    async def answer(request):
        return StubResponse(headers=[("connection", "close")])

    stub_upstream.handler = answer
    for _ in range(3):
        assert (await asgi_request(gateway, "GET", "/api/catalog/products/")).status == 200
    assert stub_upstream.connections == 3
    assert [r.nth_on_connection for r in stub_upstream.requests] == [1, 1, 1]


async def test_a_connection_the_service_closed_while_idle_is_noticed_and_not_reused(
    gateway, stub_upstream, asgi_request
):
    async def answer(request):
        return StubResponse(close_after=True)

    stub_upstream.handler = answer
    for _ in range(3):
        assert (await asgi_request(gateway, "GET", "/api/catalog/products/")).status == 200
        await asyncio.sleep(0.05)
    assert [r.nth_on_connection for r in stub_upstream.requests] == [1, 1, 1]
    assert stub_upstream.connections == 3
