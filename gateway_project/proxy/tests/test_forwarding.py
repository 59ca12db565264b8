import pytest
from conftest import StubResponse

from commerce_core.identity.gateway_identity import verify_identity

pytestmark = pytest.mark.anyio


async def test_a_request_under_a_service_prefix_reaches_the_service_with_its_path_and_query_unchanged(
    gateway, stub_upstream, asgi_request
):
    response = await asgi_request(gateway, "GET", "/api/catalog/products/1/?search=mug%20s")
    assert response.status == 200
    assert response.json() == {"ok": True}
    [forwarded] = stub_upstream.requests
    assert (forwarded.method, forwarded.path) == ("GET", "/api/catalog/products/1/?search=mug%20s")


async def test_the_bare_prefix_goes_to_the_service_and_other_paths_do_not(gateway, stub_upstream, asgi_request):
    assert (await asgi_request(gateway, "GET", "/api/catalog")).status == 200
    assert (await asgi_request(gateway, "GET", "/api/catalogue/")).status == 418
    assert (await asgi_request(gateway, "GET", "/health")).status == 418
    assert [r.path for r in stub_upstream.requests] == ["/api/catalog"]


async def test_identity_headers_sent_by_a_client_never_reach_the_service(gateway, stub_upstream, asgi_request):
    await asgi_request(
        gateway,
        "GET",
        "/api/catalog/products/",
        headers=[
            ("x-user-id", "1"),
            ("x_user_id", "1"),
            ("x-user-staff", "true"),
            ("x_gateway_identity", "forged"),
            ("x-gateway-identity", "forged.signature"),
            ("x-forwarded-for", "10.0.0.1"),
            ("x-forwarded-host", "evil"),
            ("forwarded", "for=10.0.0.1"),
            ("accept", "application/json"),
        ],
    )
    [forwarded] = stub_upstream.requests
    names = {name for name, _ in forwarded.headers}
    assert (
        not {"x-user-id", "x_user_id", "x-user-staff", "x_gateway_identity", "x-gateway-identity", "forwarded"} & names
    )
    assert forwarded.header("accept") == "application/json"


async def test_the_service_learns_the_client_address_scheme_and_host_from_the_gateway_only(
    gateway, stub_upstream, asgi_request
):
    await asgi_request(
        gateway,
        "GET",
        "/api/catalog/products/",
        client=("198.51.100.4", 40000),
        headers=[
            ("host", "shop.example"),
            ("x-forwarded-for", "10.0.0.1"),
            ("x-forwarded-proto", "https"),
        ],
    )
    [forwarded] = stub_upstream.requests
    assert forwarded.headers_named("x-forwarded-for") == ["198.51.100.4"]
    assert forwarded.headers_named("x-forwarded-proto") == ["http"]
    assert forwarded.headers_named("x-forwarded-host") == ["shop.example"]
    assert forwarded.header("host") == "shop.example"


async def test_hop_by_hop_headers_are_dropped_in_both_directions(gateway, stub_upstream, asgi_request):
    async def answer(request):
        return StubResponse(
            headers=[
                ("content-type", "application/json"),
                ("connection", "x-upstream-hop"),
                ("x-upstream-hop", "1"),
                ("keep-alive", "timeout=5"),
                ("x-kept", "yes"),
            ]
        )

    stub_upstream.handler = answer
    response = await asgi_request(
        gateway,
        "GET",
        "/api/catalog/products/",
        headers=[
            ("connection", "keep-alive, x-client-hop"),
            ("x-client-hop", "1"),
            ("keep-alive", "300"),
            ("te", "trailers"),
            ("upgrade", "websocket"),
            ("proxy-authorization", "Basic eA=="),
            ("x-kept", "yes"),
        ],
    )
    [forwarded] = stub_upstream.requests
    names = {name for name, _ in forwarded.headers}
    assert not {"x-client-hop", "keep-alive", "te", "upgrade", "proxy-authorization"} & names
    assert forwarded.header("x-kept") == "yes"
    assert response.header("x-upstream-hop") is None
    assert response.header("keep-alive") is None
    assert response.header("connection") is None
    assert response.header("x-kept") == "yes"


async def test_a_valid_access_token_is_forwarded_as_a_signed_identity(
    gateway, stub_upstream, asgi_request, access_token, settings
):
    response = await asgi_request(
        gateway,
        "GET",
        "/api/catalog/products/",
        headers=[
            ("authorization", f"Bearer {access_token(42, username='grace', is_staff=True)}"),
        ],
    )
    assert response.status == 200
    [forwarded] = stub_upstream.requests
    principal = verify_identity(forwarded.header("x-gateway-identity"), secret=settings.GATEWAY_IDENTITY_SECRET)
    assert (principal.id, principal.username, principal.is_staff) == (42, "grace", True)
    assert forwarded.header("authorization").startswith("Bearer ")


@pytest.mark.parametrize("token_kind", ["garbage", "expired", "forged", "refresh"])
async def test_a_bad_access_token_gets_401_without_contacting_the_service(
    gateway, stub_upstream, asgi_request, access_token, token_kind
):
    token = {
        "garbage": "not-a-jwt",
        "expired": access_token(lifetime=-60),
        "forged": access_token(secret="someone-elses-secret-0123456789abcdef"),
        "refresh": access_token(token_type="refresh"),
    }[token_kind]
    response = await asgi_request(
        gateway, "GET", "/api/catalog/products/", headers=[("authorization", f"Bearer {token}")]
    )
    assert response.status == 401
    assert response.json()["error"]["code"] == "invalid_token"
    assert response.header("x-request-id")
    assert stub_upstream.requests == []


async def test_a_request_without_a_token_is_forwarded_anonymously(gateway, stub_upstream, asgi_request):
    await asgi_request(gateway, "GET", "/api/catalog/products/")
    [forwarded] = stub_upstream.requests
    assert forwarded.header("x-gateway-identity") is None


async def test_the_clients_request_id_is_forwarded_and_returned(gateway, stub_upstream, asgi_request):
    response = await asgi_request(
        gateway, "GET", "/api/catalog/products/", headers=[("x-request-id", "client-id-0001")]
    )
    assert response.header("x-request-id") == "client-id-0001"
    assert stub_upstream.requests[0].headers_named("x-request-id") == ["client-id-0001"]


@pytest.mark.parametrize("sent", [None, "bad id with spaces", "short"])
async def test_a_missing_or_malformed_request_id_is_replaced_by_one_id_used_on_both_sides(
    gateway, stub_upstream, asgi_request, sent
):
    async def answer(request):  # services echo the id they were given, which the gateway must not duplicate
        return StubResponse(headers=[("x-request-id", request.header("x-request-id"))])

    stub_upstream.handler = answer
    response = await asgi_request(gateway, "GET", "/api/catalog/", headers=[("x-request-id", sent)] if sent else [])
    generated = response.header("x-request-id")
    assert generated and generated != sent
    assert [v for n, v in response.headers if n == b"x-request-id"] == [generated.encode()]
    assert stub_upstream.requests[0].headers_named("x-request-id") == [generated]


async def test_request_ids_generated_by_the_gateway_are_unique(gateway, asgi_request):
    ids = {(await asgi_request(gateway, "GET", "/api/catalog/")).header("x-request-id") for _ in range(20)}
    assert len(ids) == 20


async def test_a_chunked_body_is_forwarded_whole_with_its_counted_length_and_the_response_streams_back(
    gateway, stub_upstream, asgi_request
):
    async def answer(request):
        return StubResponse(body=[b"first,", b"second,", b"third"], chunk_delay=0.05)

    stub_upstream.handler = answer
    response = await asgi_request(
        gateway,
        "PUT",
        "/api/catalog/products/1/",
        body=[b'{"name": ', b'"Mug"}'],
        headers=[("content-type", "application/json"), ("transfer-encoding", "chunked")],
    )
    assert response.status == 200
    assert response.body == b"first,second,third"
    assert response.body_messages > 1
    [forwarded] = stub_upstream.requests
    assert forwarded.body == b'{"name": "Mug"}'
    assert forwarded.header("transfer-encoding") is None
    assert forwarded.headers_named("content-length") == ["15"]


async def test_a_body_with_a_content_length_is_forwarded_as_sent_in_one_piece(gateway, stub_upstream, asgi_request):
    body = b'{"name": "Mug", "price": "9.90"}'
    response = await asgi_request(
        gateway,
        "POST",
        "/api/catalog/products/",
        body=[body[:10], body[10:]],
        headers=[("content-length", str(len(body)))],
    )
    assert response.status == 200
    [forwarded] = stub_upstream.requests
    assert forwarded.body == body
    assert forwarded.header("content-length") == str(len(body))


async def test_keep_alive_connections_are_reused_between_requests(gateway, stub_upstream, asgi_request):
    for _ in range(5):
        assert (await asgi_request(gateway, "GET", "/api/catalog/products/")).status == 200
    assert stub_upstream.connections == 1
    assert [r.nth_on_connection for r in stub_upstream.requests] == [1, 2, 3, 4, 5]


async def test_a_head_request_gets_the_head_only(gateway, stub_upstream, asgi_request):
    response = await asgi_request(gateway, "HEAD", "/api/catalog/products/")
    assert response.status == 200
    assert response.body == b""
