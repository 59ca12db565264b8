"""Verification of the access JWTs that the auth service issues (HS256, claims
`user_id`, `username`, `is_staff`, `token_type="access"`, `exp`)."""

from dataclasses import dataclass

import jwt

from .principal import Principal


class InvalidToken(Exception):
    """The token is malformed, expired, not an access token, or forged."""


@dataclass(frozen=True, slots=True)
class VerifiedAccessToken:
    principal: Principal
    #: The token's `exp` claim (Unix seconds): whatever vouches for it must not outlive it.
    expires_at: float


def verify_access_token(token: str, *, secret: str, algorithm: str = "HS256") -> VerifiedAccessToken:
    try:
        claims = jwt.decode(token, secret, algorithms=[algorithm], options={"require": ["exp", "user_id"]})
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    if claims.get("token_type") != "access":
        raise InvalidToken("not an access token")
    try:
        principal = Principal(
            id=int(claims["user_id"]),
            username=str(claims.get("username", "")),
            is_staff=bool(claims.get("is_staff", False)),
        )
        return VerifiedAccessToken(principal, float(claims["exp"]))
    except (TypeError, ValueError) as exc:
        raise InvalidToken("malformed claims") from exc


def principal_from_access_token(token: str, *, secret: str, algorithm: str = "HS256") -> Principal:
    return verify_access_token(token, secret=secret, algorithm=algorithm).principal
