"""The proxy behind the real server it runs under (uvicorn with httptools), on sockets."""

import asyncio

import pytest
import uvicorn

pytestmark = pytest.mark.anyio


@pytest.fixture
async def served(make_gateway, stub_upstream, free_port):
    config = uvicorn.Config(
        make_gateway(stub_upstream.url),
        host="127.0.0.1",
        port=free_port,
        http="httptools",
        lifespan="off",
        access_log=False,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    yield free_port
    server.should_exit = True
    await task


async def _raw_request(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    response = await reader.read(65536)
    writer.close()
    return response


async def test_identity_headers_in_any_spelling_are_dropped_on_the_wire(served, stub_upstream):
    response = await _raw_request(
        served,
        (
            b"GET /api/catalog/products/ HTTP/1.1\r\nHost: shop.example\r\n"
            b"X-User-Id: 1\r\nX_User_Id: 2\r\nx_user_id: 3\r\nX-GATEWAY-IDENTITY: forged\r\nX-User-Is-Staff: true\r\n"
            b"Connection: close\r\n\r\n"
        ),
    )
    assert response.startswith(b"HTTP/1.1 200 ")
    [forwarded] = stub_upstream.requests
    assert not [name for name, _ in forwarded.headers if name.startswith(("x-user", "x_user", "x-gateway"))]
    assert forwarded.headers_named("x-forwarded-for") == ["127.0.0.1"]
