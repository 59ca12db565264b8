import jwt
import pytest

from proxy.identity import EdgeIdentity

pytestmark = pytest.mark.anyio


async def test_a_remembered_identity_expires_with_its_token_when_the_token_ends_first(settings, access_token):
    identity = EdgeIdentity(
        jwt_secret=settings.JWT_SECRET, identity_secret=settings.GATEWAY_IDENTITY_SECRET, cache_seconds=600
    )
    token = access_token(lifetime=5)

    identity.signed_identity(f"Bearer {token}".encode())

    [(_, remembered_until)] = identity._cache.values()
    assert remembered_until == jwt.decode(token, options={"verify_signature": False})["exp"]
