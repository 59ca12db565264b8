"""An operator-facing gateway for the sign-on tests: the real gate and Django views, the
real proxy, in front of stub services, with a stub auth service that issues real
JWTs. Sessions live in a local-memory cache instead of Redis."""

import json
import time
from dataclasses import dataclass, field

import httpx
import jwt
import pytest
from conftest import StubResponse
from proxy.app import Proxy
from proxy.identity import EdgeIdentity
from proxy.pool import Origin, close_pools
from proxy.routes import Route, RouteTable

from sign_on import sessions, views
from sign_on.gate import OperatorGate

STAFF_PASSWORD = "correct-horse-battery-staple"


@dataclass
class Account:
    id: int
    username: str
    is_staff: bool = True
    is_superuser: bool = False
    active: bool = True


@dataclass
class StubAuth:
    """The auth service's two token endpoints, over accounts a test can change."""

    secret: str
    accounts: dict[str, Account] = field(default_factory=dict)
    down: bool = False
    refreshes: int = 0

    def add(self, username: str, **flags) -> Account:
        account = self.accounts[username] = Account(id=len(self.accounts) + 1, username=username, **flags)
        return account

    def access(self, account: Account) -> str:
        claims = {
            "user_id": account.id,
            "username": account.username,
            "is_staff": account.is_staff,
            "is_superuser": account.is_superuser,
            "token_type": "access",
            "exp": int(time.time() + 300),
        }
        return jwt.encode(claims, self.secret, algorithm="HS256")

    async def handle(self, request) -> StubResponse:
        if self.down:
            return StubResponse(status=503, body=b'{"error": {"code": "overloaded", "message": "busy"}}')
        body = json.loads(request.body or b"{}")
        if request.path == "/api/auth/token/":
            account = self.accounts.get(body.get("username"))
            if account is None or body.get("password") != STAFF_PASSWORD or not account.active:
                return StubResponse(status=401, body=b'{"error": {"code": "no_active_account", "message": "no"}}')
            return _json({"access": self.access(account), "refresh": f"refresh:{account.username}"})
        if request.path == "/api/auth/token/refresh/":
            self.refreshes += 1
            account = self.accounts.get(str(body.get("refresh", "")).removeprefix("refresh:"))
            if account is None or not account.active:
                return StubResponse(status=401, body=b'{"error": {"code": "no_active_account", "message": "no"}}')
            return _json({"access": self.access(account)})
        return StubResponse(status=404)


def _json(data) -> StubResponse:
    return StubResponse(body=json.dumps(data).encode())


@pytest.fixture(autouse=True)
def _sessions_in_memory(settings):
    settings.CACHES = {
        **settings.CACHES,
        settings.SESSION_CACHE_ALIAS: {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ops"},
    }
    settings.GATEWAY = {**settings.GATEWAY, "RATE_LIMITS": {**settings.GATEWAY["RATE_LIMITS"], "ENABLED": False}}
    views._sign_in_limits.cache_clear()
    sessions.confirmations._entries.clear()
    yield
    views._sign_in_limits.cache_clear()
    sessions.confirmations._entries.clear()
    from django.core.cache import caches

    caches[settings.SESSION_CACHE_ALIAS].clear()


@pytest.fixture
async def auth(start_stub, monkeypatch, settings):
    stub = await start_stub()
    fake = StubAuth(secret=settings.JWT_SECRET)
    stub.handler = fake.handle
    monkeypatch.setenv("AUTH_SERVICE_URL", stub.url)
    fake.stub = stub
    fake.add("olga", is_superuser=True)
    fake.add("sam")  # staff, not a superuser
    fake.add("carl", is_staff=False)  # a customer
    yield fake
    close_pools()


@pytest.fixture
async def catalog(start_stub):
    """The catalog service's admin, as a stub that records what reaches it."""
    return await start_stub()


@pytest.fixture
def gateway(settings, catalog):
    """The gateway's operator-facing app: the gate, forwarding /admin/catalog/ to the
    stub catalog, in front of the gateway's Django (entry, sign-in, sign-out, own admin)."""
    from django.core.asgi import get_asgi_application

    proxy = Proxy(
        RouteTable([]),
        identity=EdgeIdentity(jwt_secret=settings.JWT_SECRET, identity_secret=settings.GATEWAY_IDENTITY_SECRET),
        max_body_bytes=1024 * 1024,
    )
    routes = RouteTable([Route("catalog", "/admin/catalog/", Origin.from_url(catalog.url), 5.0)])
    return OperatorGate(
        proxy,
        get_asgi_application(),
        routes=routes,
        identity_secret=settings.GATEWAY_IDENTITY_SECRET,
        session_cookie=settings.SESSION_COOKIE_NAME,
    )


@pytest.fixture
def browser(gateway):
    """new() -> an HTTP client with a cookie jar, talking to the gateway as a browser would."""
    clients = []

    def new(base_url: str = "http://testserver") -> httpx.AsyncClient:
        clients.append(httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url=base_url))
        return clients[-1]

    return new


async def sign_in(client: httpx.AsyncClient, username: str, password: str = STAFF_PASSWORD, *, next_page: str = ""):
    """Load the sign-in page and post its form, as a browser does; the POST's response."""
    page = await client.get("/admin/login/" + (f"?next={next_page}" if next_page else ""))
    assert page.status_code == 200, page.text
    return await client.post(
        "/admin/login/",
        data={
            "csrfmiddlewaretoken": csrf_token(page.text),
            "username": username,
            "password": password,
            "next": next_page,
        },
        headers={"origin": str(client.base_url).rstrip("/")},
    )


def csrf_token(html: str) -> str:
    import re

    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
