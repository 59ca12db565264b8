"""Keep-alive connections to the upstream services, pooled per origin.

A connection belongs to the event loop that opened it, so pools are kept per
loop: the server has one loop, but tests and `async_to_sync` callers bring their
own, and a connection used from a foreign loop would hang.
"""

import asyncio
import weakref
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from .connection import UpstreamConnection, UpstreamTimeout


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an upstream listens (plain HTTP: services sit on the private network)."""

    host: str
    port: int

    @classmethod
    def from_url(cls, url: str) -> "Origin":
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream URL must be http://host[:port], not {url!r}")
        return cls(parts.hostname, parts.port or 80)

    @property
    def authority(self) -> str:
        return self.host if self.port == 80 else f"{self.host}:{self.port}"


class ConnectionPool:
    """Idle connections to one origin, most recently used first.

    Connections are opened on demand with no upper bound (the upstream's own
    backlog is the limit); at most `max_idle` are kept between requests.
    """

    def __init__(self, origin: Origin, *, loop: asyncio.AbstractEventLoop, max_idle: int, idle_reuse_seconds: float):
        self.origin = origin
        self._loop = loop
        self._idle: list[UpstreamConnection] = []
        self._max_idle = max_idle
        self._idle_reuse_seconds = idle_reuse_seconds

    async def acquire(self, *, timeout: float, fresh: bool = False) -> UpstreamConnection:
        """A connection ready for a request: an idle one unless `fresh`, else a new one.

        Raises OSError when the origin refuses, UpstreamTimeout when it does not answer.
        """
        if not fresh:
            idle = self._idle
            too_old = self._loop.time() - self._idle_reuse_seconds
            while idle:
                conn = idle.pop()
                if not conn.closed and conn.idle_since > too_old:
                    return conn
                conn.close()
        loop = self._loop
        try:
            _, conn = await asyncio.wait_for(
                loop.create_connection(lambda: UpstreamConnection(loop), self.origin.host, self.origin.port), timeout
            )
        except TimeoutError:
            raise UpstreamTimeout(f"connecting to {self.origin.authority} timed out") from None
        return conn

    def release(self, conn: UpstreamConnection) -> None:
        """Return a connection after a complete exchange; anything doubtful is closed instead."""
        conn.disarm()
        conn.active = False
        if conn.closed or not conn.keep_alive or not conn.message_complete or len(self._idle) >= self._max_idle:
            conn.close()
            return
        conn.idle_since = self._loop.time()
        self._idle.append(conn)

    def close(self) -> None:
        while self._idle:
            self._idle.pop().close()


_pools: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Origin, ConnectionPool]]" = (
    weakref.WeakKeyDictionary()
)


def pool_for(origin: Origin) -> ConnectionPool:
    """The running loop's pool for `origin`."""
    loop = asyncio.get_running_loop()
    pools = _pools.get(loop)
    if pools is None:
        pools = _pools[loop] = {}
    pool = pools.get(origin)
    if pool is None:
        options = settings.GATEWAY
        pool = pools[origin] = ConnectionPool(
            origin,
            loop=loop,
            max_idle=options["UPSTREAM_MAX_IDLE_CONNECTIONS"],
            idle_reuse_seconds=options["UPSTREAM_IDLE_REUSE_SECONDS"],
        )
    return pool


def close_pools() -> None:
    """Close the running loop's idle connections (at server shutdown)."""
    for pool in _pools.pop(asyncio.get_running_loop(), {}).values():
        pool.close()
