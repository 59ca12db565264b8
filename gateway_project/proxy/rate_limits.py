"""Rate limits at the edge, shared by every gateway process through Redis.

Each limit is a GCRA (generic cell rate algorithm: a token bucket kept as one
timestamp, the "theoretical arrival time") evaluated by one Lua script, so that
reading and moving the timestamp is atomic across processes, on Redis's clock. A
limit is a sustained `rate` (requests per second) and a `burst` (how many may come
at once); a request past it is refused with the seconds after which one would
pass, which the client gets as `Retry-After`.

Which limit, for whom (proxy/app.py picks them):
- every proxied request counts against `requests`, per user when the token was
  valid, else per client address;
- a sign-in or a sign-up (`POST /api/auth/token/`, `/api/auth/register/`) also
  counts against the much stricter `sign_ins` or `sign_ups`, per client address:
  that is where passwords and usernames are guessed.

One Redis call per request would cost about as much gateway CPU as the rest of the
proxying, so a busy subject takes its `requests` allowance in leases: each
process asks Redis for a few requests' worth at once and spends them locally for
at most a second. A lease grows (doubling, up to a twentieth of the burst) only
while the previous one was used up in time, so a quiet subject pays one request
per call and the limit stays exact for it; a subject in a flood makes one Redis
call per lease, and concurrent requests of one subject share one lease request.
Strict limits (the auth ones) are never leased. A refusal is remembered until the
subject may come back (GCRA's timestamp only moves forward, so this is exact):
requests past a limit are refused without a Redis call.

If Redis cannot be reached the request is let through (and logged): rate limits
protect the platform, and losing Redis must not take the API down with it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import weakref
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# KEYS[1]: the subject's key. ARGV: emission interval (ms), burst, cost.
# Returns 0 when the cost was admitted (and recorded), else the milliseconds to wait.
GCRA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval * cost
local allowed_at = new_tat - interval * burst
if allowed_at > now then return math.max(1, math.ceil(allowed_at - now)) end
redis.call('SET', KEYS[1], new_tat, 'PX', math.max(1, math.ceil(new_tat - now)))
return 0
"""

LEASE_SECONDS = 1.0

_limiters: weakref.WeakSet[RateLimiter] = weakref.WeakSet()


@dataclass(frozen=True)
class Limit:
    name: str
    rate: float  # requests per second, sustained
    burst: int  # requests at once
    leased: bool = False

    @property
    def interval_ms(self) -> float:
        return 1000.0 / self.rate

    @property
    def max_lease(self) -> int:
        return max(1, self.burst // 20) if self.leased else 1


class _Lease:
    __slots__ = ("left", "until", "size", "pending", "refused_until")

    def __init__(self):
        self.left = 0
        self.until = 0.0
        self.size = 1
        #: The lease being asked of Redis: concurrent requests of the subject wait
        #: for it rather than each asking (and wasting) one of their own.
        self.pending: asyncio.Future | None = None
        #: After a refusal, nothing is admitted before this (GCRA's timestamp only
        #: moves forward), so until then refusals are given without asking Redis:
        #: a flood past the limit costs Redis nothing.
        self.refused_until = 0.0


#: `local_verdict`: the request is admitted from the lease.
ADMITTED = 0.0


class RateLimiter:
    """Asks Redis whether a subject may make one more request under a `Limit`."""

    def __init__(self, redis_url: str, *, key_prefix: str = "ratelimit:", timeout: float = 0.25):
        self._redis_url = redis_url
        self._key_prefix = key_prefix
        self._timeout = timeout
        self._scripts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # per event loop
        self._leases: dict[tuple[str, bytes], _Lease] = {}
        _limiters.add(self)

    def local_verdict(self, limit: Limit, subject: bytes) -> float | None:
        """What this process knows without Redis: ADMITTED (from its lease), the seconds
        left of a refusal, or None when Redis must be asked (`retry_after`)."""
        lease = self._leases.get((limit.name, subject))
        if lease is None:
            return None
        now = time.monotonic()
        if lease.left > 0 and lease.until > now:
            lease.left -= 1
            return ADMITTED
        if lease.refused_until > now:
            return lease.refused_until - now
        return None

    async def retry_after(self, limit: Limit, subject: bytes) -> float | None:
        """None when the request may go on; else seconds to wait before one would."""
        lease_key = (limit.name, subject)
        lease = self._leases.get(lease_key)
        if lease is None:
            if len(self._leases) > 100_000:
                self._leases.clear()
            lease = self._leases[lease_key] = _Lease()
        while True:
            verdict = self.local_verdict(limit, subject)
            if verdict is not None:
                return None if verdict == ADMITTED else verdict
            if lease.pending is None:
                return await self._renew(lease, limit, subject)
            wait = await asyncio.shield(lease.pending)
            if wait is not None:
                return wait

    async def _renew(self, lease: _Lease, limit: Limit, subject: bytes) -> float | None:
        """Take a new lease for this request and a few more; the wait if none is left."""
        lease.pending = asyncio.get_running_loop().create_future()
        wait = None
        try:
            now = time.monotonic()
            # Spent in time: ask for twice as much; left over (or a first one): start small again.
            lease.size = min(lease.size * 2, limit.max_lease) if lease.left == 0 and lease.until > now else 1
            wait = await self._ask(limit, subject, lease.size)
            if wait is not None and lease.size > 1:
                lease.size = 1
                wait = await self._ask(limit, subject, 1)
            if wait is None:
                lease.left, lease.until = lease.size - 1, time.monotonic() + LEASE_SECONDS
            else:
                lease.left, lease.until = 0, 0.0
                lease.refused_until = time.monotonic() + wait
            return wait
        finally:
            pending, lease.pending = lease.pending, None
            # Waiters retry on a granted lease, and share a refusal (None on an error: they ask again).
            pending.set_result(wait)

    async def _ask(self, limit: Limit, subject: bytes, cost: int) -> float | None:
        key = f"{self._key_prefix}{limit.name}:".encode() + subject
        try:
            waited_ms = await self._script()(keys=[key], args=[limit.interval_ms, limit.burst, cost])
        except (TimeoutError, RedisError, OSError) as exc:
            logger.warning("rate limit %s not checked, Redis unavailable (%s): request let through", limit.name, exc)
            return None
        return None if not waited_ms else waited_ms / 1000.0

    async def aclose(self) -> None:
        """Close the running loop's Redis connections."""
        script = self._scripts.pop(asyncio.get_running_loop(), None)
        if script is not None:
            await script.registered_client.aclose()

    def _script(self):
        loop = asyncio.get_running_loop()
        script = self._scripts.get(loop)
        if script is None:
            client = aioredis.Redis.from_url(
                self._redis_url, socket_timeout=self._timeout, socket_connect_timeout=self._timeout
            )
            script = self._scripts[loop] = client.register_script(GCRA)
        return script


async def close_rate_limiters() -> None:
    """Close every limiter's Redis connections of the running loop (at server shutdown)."""
    for limiter in list(_limiters):
        await limiter.aclose()


def retry_after_header(seconds: float) -> bytes:
    return b"%d" % max(1, math.ceil(seconds))


SIGN_IN_PATH = "/api/auth/token/"
SIGN_UP_PATH = "/api/auth/register/"


class EdgeRateLimits:
    """Which limits a proxied request counts against, and for whom."""

    def __init__(self, limiter: RateLimiter, *, requests: Limit, sign_ins: Limit, sign_ups: Limit):
        self.limiter = limiter
        self.requests = requests
        self._by_path = {SIGN_IN_PATH: sign_ins, SIGN_UP_PATH: sign_ups}

    @classmethod
    def from_settings(cls, options: dict, *, redis_url: str) -> EdgeRateLimits | None:
        if not options["ENABLED"]:
            return None

        def limit(name: str, *, leased: bool = False) -> Limit:
            rate, burst = options[name.upper()]
            return Limit(name, rate=rate, burst=burst, leased=leased)

        return cls(
            RateLimiter(redis_url, key_prefix=options["KEY_PREFIX"]),
            requests=limit("requests", leased=True),
            sign_ins=limit("sign_ins"),
            sign_ups=limit("sign_ups"),
        )

    @staticmethod
    def subject(user_id: int | None, client_address: str | None) -> bytes:
        """Whom a request counts against: its user when the token was valid, else its client address."""
        if user_id is not None:
            return b"u:%d" % user_id
        return b"a:" + (client_address or "-").encode()

    def local_verdict(self, method: str, path: str, subject: bytes) -> float | None:
        """ADMITTED, or seconds to wait, when this process can tell without Redis (the usual
        case for a busy subject and for one already refused); None when `retry_after` must."""
        if method == "POST" and path in self._by_path:
            return None
        return self.limiter.local_verdict(self.requests, subject)

    async def retry_after(self, method: str, path: str, subject: bytes, *, client_address: str | None):
        """None when the request may go on, else the seconds the client should wait."""
        wait = await self.limiter.retry_after(self.requests, subject)
        if wait is None and method == "POST":
            strict = self._by_path.get(path)
            if strict is not None:
                wait = await self.limiter.retry_after(strict, self.subject(None, client_address))
        return wait
