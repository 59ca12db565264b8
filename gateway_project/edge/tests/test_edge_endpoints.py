"""/health, /api/schema/, /api/docs/ and the gateway's own 404s, through the
gateway's complete ASGI application."""

import json

import pytest
from conftest import StubResponse
from proxy.pool import close_pools

from commerce_core.events.heartbeat import WorkerStatus, heartbeat_key
from commerce_core.settings.topology import PROJECTS, SERVICES
from edge.schema import forget_cached_schema

pytestmark = pytest.mark.anyio


@pytest.fixture
def gateway_app():
    from config.asgi import application

    return application


@pytest.fixture
async def services(start_stub, monkeypatch):
    """A stub for each service, reached through the topology's <NAME>_SERVICE_URL."""
    stubs = {}
    for project in SERVICES:
        stubs[project.name] = await start_stub()
        monkeypatch.setenv(f"{project.name.upper()}_SERVICE_URL", stubs[project.name].url)
    forget_cached_schema()
    yield stubs
    forget_cached_schema()
    close_pools()


def _stop_answering(monkeypatch, project_name: str, free_port: int) -> None:
    monkeypatch.setenv(f"{project_name.upper()}_SERVICE_URL", f"http://127.0.0.1:{free_port}")


class FakeRedis:
    """Answers the health check's pipeline: PING, then GET per heartbeat key.

    `alive` maps a heartbeat key to the problems its worker reports."""

    def __init__(self, *, alive=(), down=False):
        self.alive = {key: [] for key in alive}
        self.down = down

    def pipeline(self, transaction=False):
        redis, queued = self, []

        class Pipeline:
            def ping(self):
                queued.append(True)

            def get(self, key):
                problems = redis.alive.get(key)
                queued.append(None if problems is None else WorkerStatus(at=0.0, problems=problems).to_json())

            async def execute(self):
                if redis.down:
                    raise ConnectionError("Connection refused")
                return queued

        return Pipeline()


@pytest.fixture
def redis_with_heartbeats(monkeypatch):
    fake = FakeRedis(alive={heartbeat_key(project.name) for project in PROJECTS})
    monkeypatch.setattr("edge.health._redis", lambda timeout: fake)
    return fake


async def test_health_is_ok_when_redis_every_service_and_every_worker_answer(
    gateway_app, services, redis_with_heartbeats, asgi_request
):
    response = await asgi_request(gateway_app, "GET", "/health")
    assert response.status == 200, response.body
    body = response.json()
    assert body["status"] == "ok"
    assert body["components"] == {
        "redis": "ok",
        "auth": "ok",
        "catalog": "ok",
        "cart": "ok",
        "payment": "ok",
        "review": "ok",
        "worker:gateway": "ok",
        "worker:auth": "ok",
        "worker:catalog": "ok",
        "worker:cart": "ok",
        "worker:payment": "ok",
        "worker:review": "ok",
    }
    assert all(stub.requests[0].path == "/health/" for stub in services.values())
    assert response.header("x-request-id")


async def test_health_names_a_service_that_is_down_a_missing_heartbeat_a_worker_with_problems_and_an_unhealthy_service(
    gateway_app, services, redis_with_heartbeats, asgi_request, monkeypatch, free_port
):
    _stop_answering(monkeypatch, "cart", free_port)
    redis_with_heartbeats.alive.pop(heartbeat_key("payment"))
    redis_with_heartbeats.alive[heartbeat_key("catalog")] = ["3 event(s) unsent in the outbox, the oldest for 45s"]

    async def unhealthy(request):
        return StubResponse(status=503, body=b'{"status": "unavailable"}')

    services["review"].handler = unhealthy
    response = await asgi_request(gateway_app, "GET", "/health")
    assert response.status == 503
    body = response.json()
    assert body["status"] == "unavailable"
    failing = {name: reason for name, reason in body["components"].items() if reason != "ok"}
    assert set(failing) == {"cart", "review", "worker:payment", "worker:catalog"}
    assert failing["cart"].startswith("unreachable")
    assert failing["review"] == "unhealthy: HTTP 503"
    assert failing["worker:payment"] == "no heartbeat"
    assert failing["worker:catalog"] == "unhealthy: 3 event(s) unsent in the outbox, the oldest for 45s"


async def test_health_reports_a_service_that_hangs_as_a_timeout_within_about_a_second(
    gateway_app, services, redis_with_heartbeats, asgi_request
):
    import asyncio
    import time

    async def hang(request):
        await asyncio.sleep(5)

    services["auth"].handler = hang
    started = time.monotonic()
    response = await asgi_request(gateway_app, "GET", "/health")
    assert time.monotonic() - started < 2.5
    assert response.status == 503
    assert response.json()["components"]["auth"] == "timeout"


async def test_health_without_redis_names_redis_and_every_worker(gateway_app, services, monkeypatch, asgi_request):
    monkeypatch.setattr("edge.health._redis", lambda timeout: FakeRedis(down=True))
    response = await asgi_request(gateway_app, "GET", "/health")
    assert response.status == 503
    components = response.json()["components"]
    assert components["redis"].startswith("unreachable")
    assert all(components[f"worker:{project.name}"].startswith("unknown") for project in PROJECTS)


def _schema_answer(project_name: str):
    document = {
        "openapi": "3.0.3",
        "info": {"title": project_name, "version": "1"},
        "paths": {
            f"/api/{project_name}/things/": {
                "get": {
                    "responses": {
                        "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}
                    }
                }
            }
        },
        "components": {"schemas": {"Thing": {"type": "object"}}},
    }

    async def answer(request):
        assert request.path.endswith("/schema/?format=json")
        return StubResponse(body=json.dumps(document).encode())

    return answer


async def test_the_schema_merges_every_available_service_and_names_the_missing_ones(
    gateway_app, services, asgi_request, monkeypatch, free_port
):
    for name, stub in services.items():
        stub.handler = _schema_answer(name)
    _stop_answering(monkeypatch, "payment", free_port)

    response = await asgi_request(gateway_app, "GET", "/api/schema/")
    assert response.status == 200
    document = response.json()
    assert document["info"]["title"] == "Commerce platform API"
    assert document["info"]["x-unavailable"] == ["payment"]
    assert set(document["components"]["schemas"]) == {"AuthThing", "CatalogThing", "CartThing", "ReviewThing"}
    assert [request.path for request in services["catalog"].requests] == ["/api/catalog/schema/?format=json"]
    assert [request.path for request in services["review"].requests] == ["/api/reviews/schema/?format=json"]


async def test_the_merged_schema_is_cached(gateway_app, services, asgi_request):
    for name, stub in services.items():
        stub.handler = _schema_answer(name)
    await asgi_request(gateway_app, "GET", "/api/schema/")
    await asgi_request(gateway_app, "GET", "/api/schema/")
    assert len(services["catalog"].requests) == 1


async def test_the_schema_is_served_even_when_every_service_is_down(
    gateway_app, services, asgi_request, monkeypatch, free_port
):
    for project in SERVICES:
        _stop_answering(monkeypatch, project.name, free_port)
    response = await asgi_request(gateway_app, "GET", "/api/schema/")
    assert response.status == 200
    assert response.json()["info"]["x-unavailable"] == sorted(project.name for project in SERVICES)


async def test_the_docs_page_is_swagger_ui_over_the_merged_schema_with_local_assets(gateway_app, asgi_request):
    response = await asgi_request(gateway_app, "GET", "/api/docs/")
    assert response.status == 200
    page = response.body.decode()
    assert "/api/schema/" in page
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page

    asset = await asgi_request(gateway_app, "GET", "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css")
    assert asset.status == 200
    assert asset.header("x-request-id")


async def test_paths_that_are_neither_proxied_nor_the_gateways_own_get_a_json_404_with_a_request_id(
    gateway_app, asgi_request
):
    response = await asgi_request(gateway_app, "GET", "/api/nothing-here/", headers=[("x-request-id", "trace-4040")])
    assert response.status == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}
    assert response.header("x-request-id") == "trace-4040"
