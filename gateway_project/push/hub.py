"""The fan-out of one gateway web process: reads the history streams and writes each
event to this process's sockets that may see it.

One hub per event loop (`get_hub()`), one reader task per hub:

    XREAD BLOCK 5000 STREAMS h:<each public event> feed  <last ids>

from the last entry id it read, so a lost Redis connection is resumed where it
stopped and nothing published meanwhile is skipped. Each event is encoded once per
front end (`frames.py`) and handed to every listening connection's outbox: the cost
of an event is the frames it writes, not a broker message per listener, and every
gateway process gets every event exactly once, for its own sockets.

Each event's frames carry its trace (`traceparent` in their metadata); with tracing
on, a `push <event>` span per event and process, child of the gateway worker's run,
counts the sockets it reached. Frames sent and dropped, and sockets connected, are
counted for Prometheus (metrics.py).

Who listens is indexed, so delivering is a lookup, never a filter:
- public event → the connections subscribed to it;
- (user id, private event) → the connections authenticated as that user and
  subscribed to it. A private event is looked up by its recipient, so it has no
  path to anyone else's socket.

Control orders (control.py) arrive on this process's channel of the Channels layer
and close a deactivated user's sockets; a sweep of the inactive markers of the
connected users, every `SWEEP_SECONDS`, closes them should an order be lost. When
a stream's epoch changes under a live socket (Redis lost its
data), or trimming overtook this reader while it was disconnected, the sockets of
that stream are closed with 1012: they reconnect, recover from their offsets and
learn `recovered: false`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref

import redis.asyncio as aioredis
from channels.layers import channel_layers

from commerce_core.observability import tracing

from . import control
from . import metrics as push_metrics
from .audiences import public_events
from .conf import PushSettings, push_settings
from .connections import HISTORY_LOST, USER_DEACTIVATED, Connection
from .frames import event_frames
from .streams import Keys, make_offset, parse_entry_id

logger = logging.getLogger(__name__)

READ_BLOCK_MS = 5000
READ_COUNT = 500
RETRY_SECONDS = (0.1, 0.2, 0.5, 1.0, 2.0)
#: How often the inactive markers of connected users are checked.
SWEEP_SECONDS = 5.0
#: How often this process renews its membership of the control group (channels-redis
#: forgets members after `group_expiry`, whether or not they still listen).
REJOIN_SECONDS = 3600.0


class Hub:
    def __init__(self, config: PushSettings):
        self.config = config
        self.keys = Keys(config.key_prefix)
        self.redis = aioredis.Redis.from_url(
            config.redis_url, decode_responses=True, socket_timeout=10, socket_connect_timeout=5
        )
        self._reader_redis = aioredis.Redis.from_url(
            config.redis_url, decode_responses=True, socket_timeout=READ_BLOCK_MS / 1000 + 10, socket_connect_timeout=5
        )
        self.public_names = frozenset(public_events())
        self._public_streams = {self.keys.public(name): name for name in self.public_names}
        self._public: dict[str, set[Connection]] = {name: set() for name in self.public_names}
        self._private: dict[tuple[int, str], set[Connection]] = {}
        self._by_user: dict[int, set[Connection]] = {}
        self.connections: set[Connection] = set()
        self._positions: dict[str, str] = {}
        self._epochs: dict[str, str] = {}
        self._ready: asyncio.Future | None = None
        self._task: asyncio.Task | None = None
        self._control_tasks: list[asyncio.Task] = []
        self._control_channel: str | None = None
        self._control_joined: asyncio.Future | None = None
        self._layer = None

    # --- life cycle -------------------------------------------------------------------
    async def ready(self) -> None:
        """Start reading if not yet, and wait until the reader knows where it starts:
        anything published after that reaches the sockets subscribed by then."""
        if self._task is None:
            self._ready = asyncio.get_running_loop().create_future()
            self._control_joined = asyncio.get_running_loop().create_future()
            self._task = asyncio.ensure_future(self._run())
            self._control_tasks = [
                asyncio.ensure_future(self._listen_for_orders()),
                asyncio.ensure_future(self._sweep()),
            ]
        await asyncio.shield(self._ready)
        # Orders sent before this process joined the control group would be lost to it.
        await asyncio.shield(self._control_joined)

    async def close(self) -> None:
        tasks = [task for task in [self._task, *self._control_tasks] if task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            # channels-redis's receive may take its time to give up a blocking pop.
            await asyncio.wait(tasks, timeout=2)
        self._task, self._control_tasks = None, []
        if self._layer is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2):
                    await self._layer.close_pools()
        await self.redis.aclose()
        await self._reader_redis.aclose()

    # --- who listens ------------------------------------------------------------------
    def add(self, connection: Connection) -> None:
        if connection not in self.connections:
            self.connections.add(connection)
            push_metrics.socket_connected(connection.kind)

    def remove(self, connection: Connection) -> None:
        for name in connection.subscriptions:
            self.unfollow(connection, name)
        if connection.user_id is not None:
            self._discard(self._by_user, connection.user_id, connection)
        if connection in self.connections:
            self.connections.discard(connection)
            push_metrics.socket_gone(connection.kind)

    def follow(self, connection: Connection, name: str) -> None:
        if connection not in self.connections:
            return
        if name in self._public:
            self._public[name].add(connection)
        elif connection.user_id is not None:
            self._private.setdefault((connection.user_id, name), set()).add(connection)

    def unfollow(self, connection: Connection, name: str) -> None:
        if name in self._public:
            self._public[name].discard(connection)
        elif connection.user_id is not None:
            self._discard(self._private, (connection.user_id, name), connection)

    def set_user(self, connection: Connection, user_id: int) -> None:
        """The connection is now `user_id`'s: its private subscriptions follow."""
        private = [name for name in connection.subscriptions if name not in self._public]
        for name in private:
            self.unfollow(connection, name)
        if connection.user_id is not None:
            self._discard(self._by_user, connection.user_id, connection)
        connection.user_id = user_id
        if connection in self.connections:
            self._by_user.setdefault(user_id, set()).add(connection)
        for name in private:
            self.follow(connection, name)

    async def is_deactivated(self, user_id: int) -> bool:
        return bool(await self.redis.exists(self.keys.inactive(user_id)))

    @staticmethod
    def _discard(index: dict, key, connection: Connection) -> None:
        members = index.get(key)
        if members is not None:
            members.discard(connection)
            if not members:
                del index[key]

    # --- reading ----------------------------------------------------------------------
    async def _run(self) -> None:
        attempt = 0
        while True:
            try:
                await self._start_positions()
                break
            except (aioredis.RedisError, OSError) as exc:
                logger.warning("push: Redis unavailable (%s); retrying", exc)
                await asyncio.sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
                attempt += 1
        self._ready.set_result(None)
        attempt = 0
        while True:
            try:
                if attempt:
                    await self._check_continuity()
                result = await self._reader_redis.xread(self._positions, count=READ_COUNT, block=READ_BLOCK_MS)
                attempt = 0
            except (aioredis.RedisError, OSError) as exc:
                logger.warning("push: reading the streams failed (%s); resuming from the last ids", exc)
                await asyncio.sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
                attempt += 1
                continue
            for key, entries in result.items() if isinstance(result, dict) else result:
                for entry_id, fields in entries:
                    self._positions[key] = entry_id
                    try:
                        self._dispatch(key, entry_id, fields)
                    except Exception:  # one bad entry must not stop the fan-out
                        logger.exception("push: could not dispatch %s %s", key, entry_id)

    def _stream_keys(self) -> list[str]:
        return [*self._public_streams, self.keys.feed]

    async def _start_positions(self) -> None:
        """Start after the newest entry of each stream (0-0 when it does not exist yet)."""
        keys = self._stream_keys()
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.xrevrange(key, "+", "-", count=1)
        for key, newest in zip(keys, await pipe.execute(), strict=True):
            self._positions[key] = newest[0][0] if newest else "0-0"

    async def _check_continuity(self) -> None:
        """After a lost connection: was anything trimmed that this reader never read?"""
        keys = self._stream_keys()
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.get(Keys.trimmed(key))
        for key, trimmed in zip(keys, await pipe.execute(), strict=True):
            if trimmed is not None and parse_entry_id(trimmed) > parse_entry_id(self._positions[key]):
                self._history_lost(key)

    # --- fan-out ----------------------------------------------------------------------
    def _dispatch(self, key: str, entry_id: str, fields: dict) -> None:
        name = self._public_streams.get(key)
        if name is not None:
            self._check_epoch(key, fields["ep"])
            listeners = self._public[name]
            if not listeners:
                return
            offset = make_offset(fields["ep"], entry_id)
            position = parse_entry_id(entry_id)
        elif key == self.keys.feed:
            self._check_epoch(key, fields["ep"])
            name = fields["e"]
            listeners = self._private.get((int(fields["u"]), name))
            if not listeners:
                return
            offset = fields["o"]
            position = parse_entry_id(offset.partition(":")[2])
        else:
            return
        targets = tuple(listeners)
        traceparent = fields.get("t")
        span = None
        if tracing.enabled:  # the push span, child of the gateway worker's run; the frames name it
            span = tracing.start_span(f"push {name}", parent=traceparent, kind="PRODUCER")
            traceparent = tracing.traceparent_of(span)
        frames = event_frames(name, fields["i"], fields["d"], offset, traceparent)
        dropped = 0
        for connection in targets:
            if not connection.deliver(name, frames, position):
                dropped += 1
        push_metrics.pushed(name, sent=len(targets) - dropped, dropped=dropped)
        if span is not None:
            span.set_attributes({"event.type": name, "push.sockets": len(targets), "push.dropped": dropped})
            span.end()

    def _check_epoch(self, key: str, epoch: str) -> None:
        previous = self._epochs.get(key)
        self._epochs[key] = epoch
        if previous is not None and previous != epoch:
            self._history_lost(key)

    def _history_lost(self, key: str) -> None:
        """Events of this stream may have been lost under live sockets: close them so
        that they reconnect and learn it from recovery."""
        if key == self.keys.feed:
            affected = {c for members in self._private.values() for c in members}
        else:
            affected = set(self._public.get(self._public_streams[key], ()))
        logger.warning("push: history of %s was lost; closing %d socket(s) with 1012", key, len(affected))
        for connection in affected:
            connection.close(HISTORY_LOST, "history lost")

    # --- control ------------------------------------------------------------------------
    def _close_user(self, user_id: int) -> None:
        for connection in tuple(self._by_user.get(user_id, ())):
            connection.close(USER_DEACTIVATED, "user deactivated")

    async def _listen_for_orders(self) -> None:
        """This process's channel in the control group, and the orders it receives.

        The hub has a layer of its own: channels-redis keeps one receive lock per layer
        instance, and a hub of an event loop that is gone (tests run one per loop)
        must not hold up this one's receive."""
        layer = self._layer = channel_layers.make_backend(control.CONTROL_LAYER)
        attempt = 0
        while True:
            try:
                if self._control_channel is None:
                    self._control_channel = await layer.new_channel("push-control")
                    await layer.group_add(control.control_group(self.config), self._control_channel)
                    if not self._control_joined.done():
                        self._control_joined.set_result(None)
                message = await layer.receive(self._control_channel)
                attempt = 0
            except Exception as exc:  # whatever it is, the sweep covers while this retries
                logger.warning("push: the control channel failed (%s); the sweep covers meanwhile", exc)
                await asyncio.sleep(RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)])
                attempt += 1
                continue
            if message.get("type") == control.USER_DEACTIVATED:
                self._close_user(int(message["user_id"]))

    async def _sweep(self) -> None:
        """Close the sockets of users marked inactive (the safety net of lost orders),
        and renew this process's membership of the control group now and then."""
        rejoined = asyncio.get_running_loop().time()
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                if self._control_channel and asyncio.get_running_loop().time() - rejoined >= REJOIN_SECONDS:
                    await self._layer.group_add(control.control_group(self.config), self._control_channel)
                    rejoined = asyncio.get_running_loop().time()
                users = list(self._by_user)
                if not users:
                    continue
                pipe = self.redis.pipeline(transaction=False)
                for user_id in users:
                    pipe.exists(self.keys.inactive(user_id))
                marked = await pipe.execute()
            except (aioredis.RedisError, OSError) as exc:
                logger.warning("push: sweeping inactive users failed (%s)", exc)
                continue
            for user_id, inactive in zip(users, marked, strict=True):
                if inactive:
                    self._close_user(user_id)


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


async def get_hub(*, timeout: float = 5.0) -> Hub:
    """This event loop's hub, reading and ready (TimeoutError if Redis does not answer)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = Hub(push_settings())
    async with asyncio.timeout(timeout):
        await hub.ready()
    return hub


async def close_hub() -> None:
    hub = _hubs.pop(asyncio.get_running_loop(), None)
    if hub is not None:
        await hub.close()
