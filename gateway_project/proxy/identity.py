"""Who is calling: the client's access JWT, verified at the edge, becomes the signed
`X-Gateway-Identity` header that services trust (commerce_core.identity).

Verifying an HS256 token and signing the identity cost tens of microseconds, as
much as the rest of a proxied request, so the signed header is remembered per
token for a few seconds: never past the token's own expiry, and always well
inside the 30 s for which the signed header stays valid at the service.
"""

import time
from typing import NamedTuple

from commerce_core.identity.access_tokens import InvalidToken, verify_access_token
from commerce_core.identity.gateway_identity import sign_identity

__all__ = ["EdgeIdentity", "InvalidToken", "SignedIdentity"]

_BEARER = b"bearer "


class SignedIdentity(NamedTuple):
    header: bytes  # the X-Gateway-Identity value
    user_id: int


class EdgeIdentity:
    def __init__(self, *, jwt_secret: str, identity_secret: str, cache_seconds: float = 10.0, max_cached: int = 10_000):
        self._jwt_secret = jwt_secret
        self._identity_secret = identity_secret
        self._cache_seconds = cache_seconds
        self._max_cached = max_cached
        self._cache: dict[bytes, tuple[SignedIdentity, float]] = {}

    def signed_identity(self, authorization: bytes) -> SignedIdentity | None:
        """The `X-Gateway-Identity` value for an `Authorization` header value.

        None for other schemes than Bearer (the request goes on anonymously: the
        services decide what is public). Raises InvalidToken for a bad bearer token.
        """
        now = time.time()
        cached = self._cache.get(authorization)
        if cached is not None and cached[1] > now:
            return cached[0]
        if authorization[:7].lower() != _BEARER:
            return None
        token = authorization[7:].strip().decode("latin-1")
        if not token:
            raise InvalidToken("empty bearer token")
        verified = verify_access_token(token, secret=self._jwt_secret)
        header = sign_identity(verified.principal, secret=self._identity_secret, now=now).encode("ascii")
        signed = SignedIdentity(header, verified.principal.id)
        if len(self._cache) >= self._max_cached:
            self._cache.clear()
        self._cache[authorization] = (signed, min(now + self._cache_seconds, verified.expires_at))
        return signed
