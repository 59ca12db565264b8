"""Who is signed on: the operators' sessions, Django's own, stored in Redis.

A session is created at sign-in (with a new key: nothing of a session from before it
is kept) and holds the auth service's refresh token and when the sign-in happened;
the browser's cookie holds only the session's random key. The session is read from
Redis on every admin request, by whichever gateway process serves it, so deleting it
(sign-out) ends every admin at once, on every process.

Who the operator is comes from the auth service, confirmed again by each gateway
process every `RECHECK_SECONDS` with a token refresh (the auth service reads the
user afresh): a staff member deactivated or demoted there loses every admin within
that time, and the session ends. Between confirmations a process keeps the answer in
memory. If the auth service cannot answer when a confirmation is due, the request is
refused (`AuthUnavailable`): nobody is let in unconfirmed.

A session ends when it is signed out, when it has not been used for `IDLE_SECONDS`
(its entry expires in Redis; each confirmation pushes that back, and never recreates
a deleted session), `MAX_SECONDS` after its sign-in, or when a confirmation fails.
"""

import time
from importlib import import_module

from django.conf import settings
from django.core.cache import caches

from commerce_core.identity.principal import Principal

from . import auth_client

SESSION_KEY = "operator"


class _Confirmations:
    """Per gateway process: the operator each session was last confirmed as, until when."""

    def __init__(self, max_entries: int = 10_000):
        self._entries: dict[str, tuple[Principal, float]] = {}
        self._max_entries = max_entries

    def get(self, session_key: str, now: float) -> Principal | None:
        entry = self._entries.get(session_key)
        if entry is None or entry[1] <= now:
            return None
        return entry[0]

    def remember(self, session_key: str, principal: Principal, now: float) -> None:
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[session_key] = (principal, now + settings.OPERATOR_SIGN_ON["RECHECK_SECONDS"])

    def forget(self, session_key: str | None) -> None:
        self._entries.pop(session_key, None)


confirmations = _Confirmations()


def _store(session_key: str | None = None):
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key)


async def start(session, issued: auth_client.Issued) -> None:
    """A new session for a staff member who just signed in (the one before it, if any, is deleted)."""
    confirmations.forget(session.session_key)
    await session.aflush()
    now = time.time()
    await session.aset(
        SESSION_KEY,
        {
            "user_id": issued.principal.id,
            "username": issued.principal.username,
            "refresh": issued.refresh,
            "signed_in_at": now,
        },
    )
    await session.asave()
    confirmations.remember(session.session_key, issued.principal, now)


async def end(session) -> None:
    """Sign-out: the session is deleted; every admin depending on it is closed."""
    confirmations.forget(session.session_key)
    await session.aflush()


async def current_operator(session_key: str | None) -> Principal | None:
    """The staff member signed on in this session, or None (no session, or it ended).

    Raises `auth_client.AuthUnavailable` when a confirmation is due and the auth
    service cannot give it."""
    if not session_key:
        return None
    store = _store(session_key)
    record = await store.aget(SESSION_KEY)  # Redis, every time: a sign-out anywhere counts at once
    if not isinstance(record, dict):
        return None
    now = time.time()
    if now - record.get("signed_in_at", 0) > settings.OPERATOR_SIGN_ON["MAX_SECONDS"]:
        await _end_stored(store, session_key)
        return None
    confirmed = confirmations.get(session_key, now)
    if confirmed is not None:
        return confirmed
    try:
        principal = await auth_client.refreshed(record["refresh"])
    except auth_client.Refused:
        principal = None
    if principal is None or not principal.is_staff:
        await _end_stored(store, session_key)
        return None
    confirmations.remember(session_key, principal, now)
    # Used, so idle for less: push the expiry back (a touch never recreates a deleted key).
    await caches[settings.SESSION_CACHE_ALIAS].atouch(await store.acache_key(), settings.SESSION_COOKIE_AGE)
    return principal


async def _end_stored(store, session_key: str) -> None:
    confirmations.forget(session_key)
    await store.adelete(session_key)
