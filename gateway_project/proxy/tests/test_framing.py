"""The gateway's own framing checks, through its ASGI app: what a server in front of
it might let through (uvicorn's parser already refuses most of it on the wire, see
test_request_smuggling.py) is refused here too, and the framing the service gets is
always the one the gateway counted."""

import time

import pytest

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "header",
    [
        ("x-note", "a\r\nx-gateway-identity: forged"),
        ("x-note", "a\nb"),
        ("x-note", "a\x00b"),
        ("authorization", "Bearer a\r\nb"),
        ("x note", "a space in the name"),
        ("x-note:", "a colon in the name"),
    ],
    ids=["crlf", "lf", "nul", "crlf in authorization", "space in a name", "colon in a name"],
)
async def test_a_header_that_could_end_a_line_early_downstream_is_refused(gateway, stub_upstream, asgi_request, header):
    response = await asgi_request(gateway, "GET", "/api/catalog/products/", headers=[header])

    assert response.status == 400
    assert response.json()["error"]["code"] == "bad_request"
    assert response.header("connection") == "close"
    assert stub_upstream.requests == []


@pytest.mark.parametrize(
    "headers",
    [
        [("content-length", "2"), ("transfer-encoding", "chunked")],
        [("content-length", "2"), ("content-length", "2")],
        [("content-length", "1_0")],
        [("content-length", " 2")],
        [("transfer-encoding", "chunked"), ("transfer-encoding", "chunked")],
        [("transfer-encoding", "identity")],
    ],
    ids=["cl and te", "two cl", "cl with underscore", "cl with space", "two te", "te identity"],
)
async def test_a_body_with_ambiguous_framing_is_refused(gateway, stub_upstream, asgi_request, headers):
    response = await asgi_request(gateway, "POST", "/api/catalog/products/", headers=headers, body=b"{}")

    assert response.status == 400
    assert response.header("connection") == "close"
    assert stub_upstream.requests == []


@pytest.mark.parametrize("named", ["content-length", "transfer-encoding", "host"])
async def test_a_connection_header_cannot_remove_the_framing_the_service_gets(
    gateway, stub_upstream, asgi_request, named
):
    framing = [("transfer-encoding", "chunked")] if named == "transfer-encoding" else [("content-length", "2")]
    response = await asgi_request(
        gateway,
        "POST",
        "/api/catalog/products/",
        headers=[("host", "shop.example"), ("connection", f"keep-alive, {named}"), *framing],
        body=[b"{", b"}"],
    )

    assert response.status == 200
    [forwarded] = stub_upstream.requests
    assert forwarded.body == b"{}"
    assert forwarded.headers_named("content-length") == ["2"]
    assert forwarded.headers_named("host") == ["shop.example"]


async def test_a_body_without_content_length_or_chunked_framing_is_not_waited_for(gateway, stub_upstream, asgi_request):
    response = await asgi_request(gateway, "POST", "/api/catalog/products/", body=[b"ignored", b"too"])

    assert response.status == 200
    [forwarded] = stub_upstream.requests
    assert (forwarded.body, forwarded.headers_named("content-length")) == (b"", ["0"])


async def test_a_body_that_does_not_arrive_in_time_gets_408_and_the_connection_closed(
    make_gateway, stub_upstream, asgi_request
):
    gateway = make_gateway(stub_upstream.url, client_body_timeout=0.2)
    response = await asgi_request(
        gateway,
        "POST",
        "/api/catalog/products/",
        headers=[("content-length", "10")],
        body=b"12345",
        body_complete=False,
    )

    assert response.status == 408
    assert response.json()["error"]["code"] == "request_timeout"
    assert response.header("connection") == "close"
    assert stub_upstream.requests == []


async def test_the_service_gets_the_gateways_own_start_time_never_the_clients(gateway, stub_upstream, asgi_request):
    before = time.time()
    await asgi_request(gateway, "GET", "/api/catalog/products/", headers=[("x-request-start", "t=1")])

    [forwarded] = stub_upstream.requests
    [stamp] = forwarded.headers_named("x-request-start")
    assert before - 0.01 <= float(stamp.removeprefix("t=")) <= time.time()
