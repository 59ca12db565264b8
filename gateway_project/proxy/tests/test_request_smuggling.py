"""Request smuggling and slow bodies, against the real gateway process.

Raw bytes go over a real socket to the gateway (uvicorn with httptools, started
with the launcher's command) in front of a recording upstream, which parses what
it gets with a strict parser. Every case asserts what the upstream saw: exactly the
one intended request, framed by the gateway, or nothing at all.

Some malformed requests never reach the gateway's code: uvicorn's parser (llhttp)
answers them itself with a plain-text 400 and closes the connection. The others
are refused by the gateway with a 400 in the platform's error shape. Each case
names the layer that refuses it; the gateway README keeps the same table.
"""

import json
import time

import pytest
from anyio.to_thread import run_sync

from .real_gateway import GatewayProcess, RecordingUpstream, exchange, read_responses

# Async like the rest of the proxy's tests (whose fixtures need the event loop);
# the blocking socket work runs in a thread.
pytestmark = pytest.mark.anyio

BODY_TIMEOUT = 1.0
MAX_BODY = 4096
SMUGGLED = b"GET /smuggled-probe/ HTTP/1.1\r\nHost: shop.example\r\n\r\n"
POST = b"POST /api/catalog/products/ HTTP/1.1\r\nHost: shop.example\r\n"


@pytest.fixture(scope="module")
def upstream():
    recorder = RecordingUpstream().start()
    yield recorder
    recorder.stop()


@pytest.fixture(scope="module")
def gateway(upstream, tmp_path_factory):
    process = GatewayProcess(
        upstream.url,
        state_dir=tmp_path_factory.mktemp("gateway"),
        GATEWAY_CLIENT_BODY_TIMEOUT=str(BODY_TIMEOUT),
        MAX_BODY_BYTES=str(MAX_BODY),
    ).start()
    yield process
    process.stop()


@pytest.fixture(autouse=True)
def _fresh_recording(upstream):
    upstream.clear()
    yield
    assert upstream.parse_errors == [], "the upstream got bytes it could not parse"


def _chunked(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(payload), payload)


def _wait_settled(upstream, expected: int, timeout: float = 2.0) -> list:
    """What the upstream recorded, once `expected` requests are in (or the time is up)
    and a moment longer, so that one request too many would show."""
    deadline = time.monotonic() + timeout
    while len(upstream.requests) < expected and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    return list(upstream.requests)


async def _settled(upstream, expected: int) -> list:
    return await run_sync(_wait_settled, upstream, expected)


# --- Connection may not take the framing away ----------------------------------------------
FORWARDED_ONCE = {
    "connection names content-length": (
        POST + b"Connection: keep-alive, content-length\r\nContent-Length: %d\r\n\r\n%s" % (len(SMUGGLED), SMUGGLED)
    ),
    "connection names transfer-encoding": (
        POST + b"Connection: transfer-encoding\r\nTransfer-Encoding: chunked\r\n\r\n" + _chunked(SMUGGLED)
    ),
    "connection names host": (
        POST + b"Connection: host, content-length\r\nContent-Length: %d\r\n\r\n%s" % (len(SMUGGLED), SMUGGLED)
    ),
    "transfer-encoding after extra whitespace, which the server's parser trims": (
        POST + b"Transfer-Encoding:  chunked\r\n\r\n" + _chunked(SMUGGLED)
    ),
}


@pytest.mark.parametrize("raw", FORWARDED_ONCE.values(), ids=FORWARDED_ONCE.keys())
async def test_a_body_that_looks_like_a_request_reaches_the_service_as_the_body_of_one_request(gateway, upstream, raw):
    [response], _ = await run_sync(exchange, gateway, raw)

    assert response.status == 200
    [seen] = await _settled(upstream, 1)
    assert (seen.method, seen.path, seen.body) == ("POST", "/api/catalog/products/", SMUGGLED)
    assert seen.headers_named("content-length") == [str(len(SMUGGLED))]
    assert seen.headers_named("transfer-encoding") == []
    assert seen.headers_named("host") == ["shop.example"]


# --- ambiguous framing is refused, by the server's parser or by the gateway -----------------
REFUSED = {
    # name: (raw request, the layer that refuses it)
    "CL.TE": (POST + b"Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG", "server"),
    "TE.CL": (
        POST + b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n" + _chunked(SMUGGLED),
        "server",
    ),
    "TE.TE xchunked": (POST + b"Transfer-Encoding: xchunked\r\n\r\n" + _chunked(SMUGGLED), "server"),
    "TE.TE chunked, identity": (
        POST + b"Transfer-Encoding: chunked, identity\r\n\r\n" + _chunked(SMUGGLED),
        "server",
    ),
    "TE.TE identity, chunked": (
        POST + b"Transfer-Encoding: identity, chunked\r\n\r\n" + _chunked(SMUGGLED),
        "gateway",
    ),
    "TE.TE chunked with trailing whitespace": (
        POST + b"Transfer-Encoding: chunked \r\n\r\n" + _chunked(SMUGGLED),
        "gateway",
    ),
    "TE.TE gzip, chunked": (POST + b"Transfer-Encoding: gzip, chunked\r\n\r\n" + _chunked(SMUGGLED), "gateway"),
    "TE.TE space before the colon": (
        POST + b"Transfer-Encoding : chunked\r\n\r\n" + _chunked(SMUGGLED),
        "server",
    ),
    "TE.TE tab before the colon": (
        POST + b"Transfer-Encoding\t: chunked\r\n\r\n" + _chunked(SMUGGLED),
        "server",
    ),
    "TE.TE two transfer-encoding headers": (
        POST + b"Transfer-Encoding: chunked\r\nTransfer-encoding: x\r\n\r\n" + _chunked(SMUGGLED),
        "server",
    ),
    "obs-fold continuing a header": (
        POST + b"X-Note: a\r\n folded\r\nContent-Length: %d\r\n\r\n%s" % (len(SMUGGLED), SMUGGLED),
        "server",
    ),
    "obs-fold continuing transfer-encoding": (
        POST + b"Transfer-Encoding: identity\r\n chunked\r\n\r\n" + _chunked(SMUGGLED),
        "server",
    ),
    "two equal content-lengths": (
        POST + b"Content-Length: %d\r\nContent-Length: %d\r\n\r\n%s" % (len(SMUGGLED), len(SMUGGLED), SMUGGLED),
        "server",
    ),
    "two different content-lengths": (
        POST + b"Content-Length: 0\r\nContent-Length: %d\r\n\r\n%s" % (len(SMUGGLED), SMUGGLED),
        "server",
    ),
    "a signed content-length": (POST + b"Content-Length: +%d\r\n\r\n%s" % (len(SMUGGLED), SMUGGLED), "server"),
    "a carriage return inside a header value": (POST + b"X-Note: a\rb\r\nContent-Length: 0\r\n\r\n", "server"),
    "a NUL inside a header value": (POST + b"X-Note: a\x00b\r\nContent-Length: 0\r\n\r\n", "server"),
    "two host headers": (
        b"GET /api/catalog/products/ HTTP/1.1\r\nHost: shop.example\r\nHost: internal.example\r\n\r\n",
        "gateway",
    ),
    "two authorization headers": (
        b"GET /api/catalog/products/ HTTP/1.1\r\nHost: shop.example\r\n"
        b"Authorization: Basic eDp5\r\nAuthorization: Bearer abc\r\n\r\n",
        "gateway",
    ),
    "no host in HTTP/1.1": (b"GET /api/catalog/products/ HTTP/1.1\r\n\r\n", "gateway"),
    "transfer-encoding in HTTP/1.0": (
        b"POST /api/catalog/products/ HTTP/1.0\r\nHost: shop.example\r\nTransfer-Encoding: chunked\r\n\r\n"
        + _chunked(SMUGGLED),
        "gateway",
    ),
}


@pytest.mark.parametrize(("raw", "layer"), REFUSED.values(), ids=REFUSED.keys())
async def test_a_request_with_ambiguous_framing_is_refused_and_reaches_no_service(gateway, upstream, raw, layer):
    responses, closed = await run_sync(lambda: exchange(gateway, raw, responses=2))

    [response] = responses  # one answer, then the connection is closed: nothing after it is read as a request
    assert response.status == 400
    assert closed
    if layer == "gateway":
        assert json.loads(response.body)["error"]["code"] == "bad_request"
    else:
        assert response.headers["content-type"].startswith("text/plain")
    assert await _settled(upstream, 0) == []


async def test_pipelined_requests_reach_the_service_as_the_same_requests_in_order(gateway, upstream):
    first_body = b'{"name": "Mug"}'
    raw = (
        POST + b"Content-Length: %d\r\n\r\n%s" % (len(first_body), first_body)
        + b"GET /api/catalog/products/?page=2 HTTP/1.1\r\nHost: shop.example\r\n\r\n"
        + POST.replace(b"POST", b"PUT") + b"Transfer-Encoding: chunked\r\n\r\n" + _chunked(b"{}")
    )  # fmt: skip
    responses, _ = await run_sync(lambda: exchange(gateway, raw, responses=3))

    assert [r.status for r in responses] == [200, 200, 200]
    assert [json.loads(r.body)["seen"] for r in responses] == [
        "POST /api/catalog/products/",
        "GET /api/catalog/products/?page=2",
        "PUT /api/catalog/products/",
    ]
    seen = await _settled(upstream, 3)
    assert [(r.method, r.path, r.body) for r in seen] == [
        ("POST", "/api/catalog/products/", first_body),
        ("GET", "/api/catalog/products/?page=2", b""),
        ("PUT", "/api/catalog/products/", b"{}"),
    ]


# --- bodies are read whole, in time, before a service is contacted --------------------------
async def test_a_body_that_does_not_arrive_in_time_gets_408_and_never_reaches_the_service(gateway, upstream):
    def send_part_of_a_body():
        with gateway.connect() as sock:
            sock.sendall(POST + b"Content-Length: 100\r\n\r\n" + b"x" * 10)
            time.sleep(BODY_TIMEOUT / 2)
            assert upstream.requests == []  # no service connection is held for a body still on its way
            return read_responses(sock)

    [response], closed = await run_sync(send_part_of_a_body)

    assert response.status == 408
    assert json.loads(response.body)["error"]["code"] == "request_timeout"
    assert response.headers["connection"] == "close" and closed
    assert await _settled(upstream, 0) == []


async def test_a_chunked_body_over_the_limit_gets_413_and_never_reaches_the_service(gateway, upstream):
    def send_too_much():
        with gateway.connect() as sock:
            sock.sendall(POST + b"Transfer-Encoding: chunked\r\n\r\n")
            for _ in range(MAX_BODY // 1000 + 1):
                sock.sendall(b"%x\r\n%s\r\n" % (1000, b"x" * 1000))
            return read_responses(sock)

    [response], closed = await run_sync(send_too_much)

    assert response.status == 413
    assert json.loads(response.body)["error"]["code"] == "payload_too_large"
    assert closed
    assert await _settled(upstream, 0) == []


async def test_a_body_sent_slowly_but_within_the_deadline_is_forwarded_in_one_piece(gateway, upstream):
    body = b'{"name": "Mug", "price": "9.90"}'

    def send_slowly():
        with gateway.connect() as sock:
            sock.sendall(POST + b"Content-Length: %d\r\n\r\n" % len(body))
            for byte in range(0, len(body), 8):
                sock.sendall(body[byte : byte + 8])
                time.sleep(BODY_TIMEOUT / 10)
            return read_responses(sock)

    [response], _ = await run_sync(send_slowly)

    assert response.status == 200
    [seen] = await _settled(upstream, 1)
    assert seen.body == body
    assert seen.headers_named("content-length") == [str(len(body))]
