"""The header through which the gateway tells a service who is calling.

`X-Gateway-Identity: <base64url(json)>.<base64url(hmac-sha256)>`, the JSON holding
the user id, username, staff flag (and `su` for a superuser, read only by the
admin: commerce_core.operators) and an expiry a few seconds ahead. Only the
gateway and the services know the key, so a client cannot mint one (the gateway
also strips any copy a client sends), and a captured one is useless within seconds.
"""

import base64
import hashlib
import hmac
import json
import time

from .principal import Principal

HEADER = "X-Gateway-Identity"
#: The same header as it appears in a WSGI/ASGI `META` dict.
META_KEY = "HTTP_X_GATEWAY_IDENTITY"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode("ascii"), hashlib.sha256).digest())


def sign_identity(principal: Principal, *, secret: str, ttl_seconds: int = 30, now: float | None = None) -> str:
    expires = int((now if now is not None else time.time()) + ttl_seconds)
    claims = {"id": principal.id, "u": principal.username, "s": principal.is_staff, "exp": expires}
    if principal.is_superuser:
        claims["su"] = True
    body = json.dumps(claims, separators=(",", ":")).encode()
    payload = _b64(body)
    return f"{payload}.{_mac(secret, payload)}"


def verify_identity(value: str, *, secret: str, now: float | None = None) -> Principal | None:
    """The principal if the header was signed with `secret` and has not expired, else None."""
    try:
        payload, signature = value.split(".", 1)
        if not hmac.compare_digest(signature, _mac(secret, payload)):
            return None
        claims = json.loads(_unb64(payload))
        if claims["exp"] < (now if now is not None else time.time()):
            return None
        return Principal(
            id=int(claims["id"]),
            username=str(claims["u"]),
            is_staff=bool(claims["s"]),
            is_superuser=bool(claims.get("su", False)),
        )
    except (ValueError, KeyError, TypeError, UnicodeError):
        return None
