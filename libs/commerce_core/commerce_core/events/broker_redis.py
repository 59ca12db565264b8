"""Redis Streams as the bus's broker.

Each queue is a stream, `<service>.events`, read by one consumer group, `workers`.

- Publishing: XADD into every subscriber's stream, all in one round trip.
- Consuming: XREADGROUP takes a batch in one round trip and puts every message it
  returns in the group's pending list, on the server, in the same step: a worker
  killed at any instant leaves its messages pending, never lost.
- Acknowledging: XACK then XDEL, in one script, so a stream holds only what is
  still to be handled (XLEN is the queue's depth).
- Crashes: a worker reads its own pending messages first when it starts (it comes
  back under the same consumer name, `EVENT_CONSUMER_NAME`, by default the host's
  name), and every worker takes over, with XAUTOCLAIM, messages another consumer
  left pending for longer than `EVENT_VISIBILITY_TIMEOUT`.
- A Redis restarted empty has lost the streams and their group: the consumer
  creates the group again (from the start of the stream, so events published
  before it are read too) and goes on; the outbox sends the lost events again.
- Upgrading over a Redis where an earlier release kept a queue as a list: its
  messages are moved into the stream first (`_adopt_legacy_list`).

Needs Redis 6.2 or newer (XAUTOCLAIM).
"""

from __future__ import annotations

import base64
import json
import secrets

import redis

from .broker_base import EPOCH_KEY, BrokerOptions, Delivery, Sent
from .redis_direct import DirectConnection

GROUP = "workers"
FIELD = "e"
#: Messages adopted from a queue an earlier release kept as a Redis list (Kombu's
#: format, see `_adopt_legacy_list`) carry the Kombu message whole in this field.
LEGACY_FIELD = "k"

#: A queue that is a list (an earlier release's) is set aside, atomically, as `<queue>.legacy-list`.
SET_LIST_ASIDE = """
if redis.call('TYPE', KEYS[1]).ok == 'list' then
  redis.call('RENAME', KEYS[1], KEYS[2])
  return 1
end
return 0
"""
#: One message moved from the set-aside list into the stream, atomically, oldest first.
MOVE_ONE = """
local item = redis.call('RPOP', KEYS[1])
if not item then return 0 end
redis.call('XADD', KEYS[2], '*', ARGV[1], item)
return 1
"""


#: Acknowledged and deleted together, atomically (both or neither: no entry left
#: behind), in one command where MULTI/XACK/XDEL/EXEC took four.
ACK_AND_DELETE = """
redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 2))
return redis.call('XDEL', KEYS[1], unpack(ARGV, 2))
"""


class RedisStreamsBroker:
    def __init__(self, options: BrokerOptions):
        self.options = options
        self.client = _client(options, read_timeout=10.0)
        # Sends go on a connection used directly (redis_direct.py): they are on the
        # path of every write that publishes, and redis-py's pipeline cost twice the
        # CPU of the round trip itself (220 against 95 µs for a send to three queues).
        self._sends = DirectConnection(options.url, socket_timeout=10.0, connect_timeout=options.connect_timeout)

    # --- publishing ----------------------------------------------------------------
    def publish(self, envelope: dict, queues: list[str]) -> None:
        error = self.publish_many([(envelope, queues)]).errors[0]
        if error is not None:
            raise error

    def publish_many(self, items: list[tuple[dict, list[str]]]) -> Sent:
        # The epoch is read in the same round trip, ahead of the XADDs: Redis runs
        # the commands in order, so it is the epoch the events went into.
        commands: list[tuple] = [("GET", EPOCH_KEY)]
        owners = []
        for index, (envelope, queues) in enumerate(items):
            body = json.dumps(envelope, separators=(",", ":"))
            for queue in queues:
                commands.append(("XADD", queue, "*", FIELD, body))
                owners.append(index)
        try:
            epoch, *results = self._sends.call(*commands)
        except redis.RedisError as exc:
            return Sent([exc] * len(items))
        errors: list[BaseException | None] = [None] * len(items)
        for index, result in zip(owners, results, strict=True):
            if isinstance(result, Exception) and errors[index] is None:
                errors[index] = result
        if isinstance(epoch, bytes):
            epoch = epoch.decode()
        return Sent(errors, epoch=epoch if isinstance(epoch, str) else "")

    # --- queues ----------------------------------------------------------------------
    def declare(self, names: list[str]) -> None:
        for name in names:
            _create_group(self.client, name)

    def depth(self, name: str) -> int:
        return int(self.client.xlen(name))

    def epoch(self, *, create: bool = True) -> str | None:
        if create:
            self.client.set(EPOCH_KEY, secrets.token_hex(8), nx=True)
        value = self.client.get(EPOCH_KEY)
        return value.decode() if isinstance(value, bytes) else value

    def consumer(self, queue: str, *, prefetch: int = 100) -> StreamConsumer:
        """`prefetch` is what one read may take at most; each fetch names its own limit."""
        return StreamConsumer(self.options, queue)

    def reset(self) -> None:
        """Nothing to drop: redis-py's pool replaces a broken connection by itself, and
        the sending connection is reopened at its next send."""


class StreamConsumer:
    """One worker's reading of one stream (see the module docstring)."""

    RECLAIM_BATCH = 100

    def __init__(self, options: BrokerOptions, queue: str):
        self.queue = queue
        self.name = options.consumer_name
        self.min_idle_ms = int(options.visibility_timeout * 1000)
        # Reads block for up to a few seconds: the socket must wait longer than that.
        self.client = _client(options, read_timeout=30.0)
        # Reading and acknowledging, once per batch, go on a connection of their own
        # used directly (redis_direct.py); the rare commands use the client.
        self.direct = DirectConnection(options.url, socket_timeout=30.0, connect_timeout=options.connect_timeout)
        _create_group(self.client, queue)
        #: Until its own pending messages are read back, a consumer reads those first.
        self._own_pending = True

    def fetch(self, *, wait: float, limit: int, gap: float = 0.0, ack: list[Delivery] = ()) -> list[Delivery]:
        # One read returns every message available, up to `limit`: no gap to wait for.
        if self._own_pending:
            deliveries = self._read("0", limit, block=None, ack=ack)
            if deliveries:
                return deliveries
            self._own_pending = False
            ack = ()
        return self._read(">", limit, block=max(1, int(wait * 1000)), ack=ack)

    def _read(self, start: str, limit: int, *, block: int | None, ack: list[Delivery]) -> list[Delivery]:
        # The batch before is acknowledged in the read's round trip: Redis runs the
        # script before the read, and replies to both together. EVAL rather than
        # EVALSHA: the script is short, and Redis caches its text all the same.
        commands = [_ack_command(self.queue, ack)] if ack else []
        read = ["XREADGROUP", "GROUP", GROUP, self.name, "COUNT", limit]
        if block is not None:
            read += ["BLOCK", block]
        commands.append((*read, "STREAMS", self.queue, start))
        *acked, answer = self.direct.call(*commands)
        for result in (*acked, answer):
            if isinstance(result, redis.ResponseError) and "NOGROUP" in str(result):
                _create_group(self.client, self.queue)  # the broker lost the stream (restarted empty)
                return []
            if isinstance(result, Exception):
                raise result
        if not answer:  # nil: the wait ended with nothing new
            return []
        _, entries = answer[0]
        gone = [entry_id for entry_id, fields in entries if not fields]
        if gone:  # deleted while pending (acknowledged by a consumer that then died): done
            self.client.xack(self.queue, GROUP, *gone)
        return [_delivery(entry_id, _field_map(fields)) for entry_id, fields in entries if fields]

    def ack(self, deliveries: list[Delivery]) -> None:
        if not deliveries:
            return
        (result,) = self.direct.call(_ack_command(self.queue, deliveries))
        if isinstance(result, Exception):
            raise result

    def reclaim(self) -> list[Delivery]:
        """Messages pending for another consumer longer than the visibility timeout."""
        try:
            _, entries, *_ = self.client.xautoclaim(
                self.queue, GROUP, self.name, self.min_idle_ms, start_id="0-0", count=self.RECLAIM_BATCH
            )
        except redis.ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            _create_group(self.client, self.queue)
            return []
        # An entry deleted while pending comes back without its fields: nothing to do.
        return [_delivery(entry_id, fields) for entry_id, fields in entries if fields]

    def keep_alive(self) -> None:
        """Nothing to do: a Redis connection has no heartbeat to miss."""

    def close(self) -> None:
        # Pending messages stay with this consumer's name: read back at its next
        # start, or taken over by another consumer after the visibility timeout.
        self.direct.close()
        self.client.close()


def _ack_command(queue: str, deliveries: list[Delivery]) -> tuple:
    return ("EVAL", ACK_AND_DELETE, 1, queue, GROUP, *(delivery.token for delivery in deliveries))


def _field_map(fields: list) -> dict:
    """A stream entry's fields as Redis sends them, `[name, value, ...]`, as a dict."""
    return dict(zip(fields[::2], fields[1::2], strict=True))


def _client(options: BrokerOptions, *, read_timeout: float) -> redis.Redis:
    return redis.Redis.from_url(
        options.url,
        socket_connect_timeout=options.connect_timeout,
        socket_timeout=read_timeout,
        health_check_interval=30,
    )


def _create_group(client: redis.Redis, queue: str) -> None:
    """The queue's consumer group, created with the stream if missing, reading from
    the stream's start: events put in before the group existed are read too."""
    try:
        client.xgroup_create(queue, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" in str(exc):
            return
        if "WRONGTYPE" not in str(exc):
            raise
        _adopt_legacy_list(client, queue)


def _adopt_legacy_list(client: redis.Redis, queue: str) -> None:
    """Earlier releases kept each queue as a Redis list of Kombu messages. Upgrading
    over such a Redis, the list is set aside and its messages moved into the stream,
    one at a time and atomically, so that none is lost or skipped; they are handled
    like any other (`delivery.Received` also reads the Celery task messages of even
    earlier releases)."""
    aside = f"{queue}.legacy-list"
    client.eval(SET_LIST_ASIDE, 2, queue, aside)
    try:
        client.xgroup_create(queue, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
    while client.eval(MOVE_ONE, 2, aside, queue, LEGACY_FIELD):
        pass


def _delivery(entry_id, fields: dict) -> Delivery:
    raw = fields.get(FIELD.encode()) if fields else None
    try:
        if raw is None and fields and LEGACY_FIELD.encode() in fields:
            raw = _kombu_body(fields[LEGACY_FIELD.encode()])
        body = json.loads(raw) if raw is not None else None
    except ValueError:  # not JSON: parked as malformed with what arrived
        body = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    return Delivery(body=body, token=entry_id)


def _kombu_body(message: bytes) -> bytes:
    """The body of a message as Kombu's Redis transport stored it (JSON, the body
    base64-encoded by default)."""
    stored = json.loads(message)
    body = stored["body"]
    if stored.get("properties", {}).get("body_encoding") == "base64":
        return base64.b64decode(body)
    return body.encode() if isinstance(body, str) else body
