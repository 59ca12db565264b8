"""The gateway's own calls to the auth service for the operators' sign-on: the token
endpoints every client uses (`POST /api/auth/token/`, `/api/auth/token/refresh/`),
reached the way the gateway reaches it for any client, over the proxy's pooled
connections. No service calls another: the gateway is the only HTTP client."""

import json
from dataclasses import dataclass

from django.conf import settings
from proxy import client
from proxy.connection import UpstreamError

from commerce_core.identity.access_tokens import InvalidToken, verify_access_token
from commerce_core.identity.principal import Principal
from commerce_core.settings.topology import SERVICES


class Refused(Exception):
    """Wrong credentials; or a refresh token no longer good (its user deactivated or
    deleted, or it expired)."""


class AuthUnavailable(Exception):
    """The auth service did not answer, or not as it should."""


@dataclass(frozen=True)
class Issued:
    principal: Principal  # from the access token, verified here like any
    refresh: str


async def obtain(username: str, password: str, *, client_address: str | None, request_id: str | None) -> Issued:
    data = await _post("token/", {"username": username, "password": password}, client_address, request_id)
    refresh = data.get("refresh")
    if not isinstance(refresh, str):
        raise AuthUnavailable("the auth service issued no refresh token")
    return Issued(_verified(data.get("access")), refresh)


async def refreshed(refresh: str) -> Principal:
    """Who the refresh token's user is now (the auth service reads the user again)."""
    data = await _post("token/refresh/", {"refresh": refresh}, None, None)
    return _verified(data.get("access"))


def _auth():
    return next(project for project in SERVICES if project.name == "auth")


async def _post(path: str, payload: dict, client_address: str | None, request_id: str | None) -> dict:
    auth = _auth()
    options = settings.GATEWAY
    timeout = options["UPSTREAM_TIMEOUTS"].get(auth.name) or options["UPSTREAM_TIMEOUT"]
    headers = []
    if client_address:
        headers.append(("x-forwarded-for", client_address))
    if request_id:
        headers.append(("x-request-id", request_id))
    try:
        status, body = await client.post_json(
            f"{auth.url}{auth.api_prefix}{path}", payload, timeout=timeout, headers=tuple(headers)
        )
    except (OSError, UpstreamError) as exc:  # refused, reset, timed out
        raise AuthUnavailable(f"the auth service is unreachable ({exc or type(exc).__name__})") from None
    if status in (400, 401):
        raise Refused()
    if status != 200:
        raise AuthUnavailable(f"the auth service answered {status}")
    try:
        data = json.loads(body)
    except ValueError:
        raise AuthUnavailable("the auth service answered something other than JSON") from None
    return data if isinstance(data, dict) else {}


def _verified(access) -> Principal:
    try:
        return verify_access_token(str(access), secret=settings.JWT_SECRET).principal
    except InvalidToken as exc:
        raise AuthUnavailable(f"the auth service issued an access token that does not verify ({exc})") from None
