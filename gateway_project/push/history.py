"""Push history in Redis Streams: written once per event by the gateway's event
worker, read by every gateway web process (live fan-out and recovery).

Writing (`record`, synchronous, called from the worker's handler) is one Lua script,
so that for each event, atomically:

1. a redelivered event id (the bus delivers at least once) records nothing and
   gets the offset of its first recording back;
2. the stream's epoch is created if missing (`SET NX`), so an offset always names
   the life of the stream it came from;
3. the event is appended (`XADD`) to its history stream (public: `h:<event>`;
   private: `u:<user>:<event>`), and a private one also to the `feed`, with the
   `traceparent` of its trace when it has one (`t`: the pushed frames carry it);
4. the stream is trimmed by our own rule (below), and the id of the newest entry
   removed is kept in `<stream>:trimmed`, so a reader can tell exactly whether the
   history after an offset is still whole.

Retention: an entry is removed only when it is older than `history_seconds` AND
not among the last `history_events`, or when the stream holds more than
`history_max_events`. Trimming runs when an event is appended and removes at most
100 entries each time (the cheap check of the oldest entry comes first), so its
cost stays flat; `XTRIM MINID` removes exactly what it was told. A stream with no
new event for `history_idle_seconds` expires together with its epoch.

Reading (`read_after`, asynchronous): the entries after an offset, in batches, each
batch fetched in one MULTI together with the epoch and the trim mark, so a gap
(another epoch, or entries after the offset trimmed away) is always detected.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from collections.abc import AsyncIterator

import redis

from commerce_core.events.contracts import Audience
from commerce_core.events.envelope import Envelope
from commerce_core.events.redis_direct import DirectConnection
from commerce_core.observability import tracing

from .audiences import recipient_of
from .conf import PushSettings, push_settings
from .streams import Keys, Offset, parse_entry_id

RECORD_SCRIPT = """
local recorded = redis.call('GET', KEYS[1])
if recorded then return recorded end

local keep, keep_ms = tonumber(ARGV[7]), tonumber(ARGV[8])
local max_events, idle_ms = tonumber(ARGV[9]), tonumber(ARGV[10])
local TRIM_BATCH = 100

local function ms_of(id) return tonumber(string.match(id, '^(%d+)')) end

local function trim(stream, trimmed_key, newest_id)
  local length = redis.call('XLEN', stream)
  if length <= keep and length <= max_events then return end
  local cutoff = ms_of(newest_id) - keep_ms
  -- position: 1 for the oldest entry; `remaining` counts it and every newer one
  local function droppable(position, id)
    local remaining = length - position + 1
    return remaining > max_events or (remaining > keep and ms_of(id) < cutoff)
  end
  local oldest = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)
  if not droppable(1, oldest[1][1]) then return end
  local batch = redis.call('XRANGE', stream, '-', '+', 'COUNT', TRIM_BATCH + 1)
  local last_dropped, first_kept = nil, nil
  for position, entry in ipairs(batch) do
    if position <= TRIM_BATCH and droppable(position, entry[1]) then
      last_dropped = entry[1]
    else
      first_kept = entry[1]
      break
    end
  end
  -- The newest entry is never droppable, so first_kept exists.
  redis.call('XTRIM', stream, 'MINID', first_kept)
  redis.call('SET', trimmed_key, last_dropped)
end

local function append(stream, epoch_key, trimmed_key, candidate_epoch, fields)
  redis.call('SET', epoch_key, candidate_epoch, 'NX')
  local epoch = redis.call('GET', epoch_key)
  table.insert(fields, 'ep')
  table.insert(fields, epoch)
  local id = redis.call('XADD', stream, '*', unpack(fields))
  trim(stream, trimmed_key, id)
  redis.call('PEXPIRE', stream, idle_ms)
  redis.call('PEXPIRE', epoch_key, idle_ms)
  redis.call('PEXPIRE', trimmed_key, idle_ms)
  return epoch .. ':' .. id
end

local function with_trace(fields)
  if ARGV[12] ~= '' then
    table.insert(fields, 't')
    table.insert(fields, ARGV[12])
  end
  return fields
end

local offset = append(KEYS[2], KEYS[3], KEYS[4], ARGV[5], with_trace({'i', ARGV[1], 'd', ARGV[3]}))
if ARGV[4] ~= '' then
  append(KEYS[5], KEYS[6], KEYS[7], ARGV[6],
         with_trace({'u', ARGV[4], 'e', ARGV[2], 'i', ARGV[1], 'd', ARGV[3], 'o', offset}))
end
redis.call('SET', KEYS[1], offset, 'PX', ARGV[11])
return offset
"""


class _SyncClients:
    """The worker process's Redis client, and the connection that records events
    (used directly: commerce_core.events.redis_direct), made on first use. The
    recording connection is shared by the worker's threads (the consumer, the
    retries), one command at a time."""

    def __init__(self):
        self._lock = threading.Lock()
        self._url: str | None = None
        self.client: redis.Redis | None = None
        self._recording: DirectConnection | None = None

    def for_settings(self, config: PushSettings) -> _SyncClients:
        with self._lock:
            if self._url != config.redis_url:
                self.client = redis.Redis.from_url(config.redis_url, socket_timeout=5, socket_connect_timeout=5)
                if self._recording is not None:
                    self._recording.close()
                self._recording = DirectConnection(config.redis_url, socket_timeout=5, connect_timeout=5)
                self._url = config.redis_url
            return self

    def run_record_script(self, keys: list[str], args: list) -> bytes:
        """RECORD_SCRIPT by its digest, or by its text when Redis does not know it
        (a Redis restarted since, or never asked)."""
        with self._lock:
            (reply,) = self._recording.call(("EVALSHA", RECORD_DIGEST, len(keys), *keys, *args))
            if isinstance(reply, redis.exceptions.NoScriptError):
                (reply,) = self._recording.call(("EVAL", RECORD_SCRIPT, len(keys), *keys, *args))
        if isinstance(reply, Exception):
            raise reply
        return reply


RECORD_DIGEST = hashlib.sha1(RECORD_SCRIPT.encode()).hexdigest()
_sync = _SyncClients()


def sync_client(config: PushSettings) -> redis.Redis:
    """The worker's (synchronous) Redis client for push."""
    return _sync.for_settings(config).client


def record(envelope: Envelope, *, config: PushSettings | None = None) -> str | None:
    """Append a pushable event to its history (once per event id); returns its offset,
    or None for an event no client may see (internal, or private without a recipient)."""
    # The audience from the event's own contract: the registry of every contract
    # (audiences.pushable_events) is a dict built at each call.
    audience = type(envelope.event).audience
    if audience is Audience.INTERNAL:
        return None
    user_id = recipient_of(envelope)
    if user_id is None and audience is Audience.USER:
        return None
    config = config or push_settings()
    keys = Keys(config.key_prefix)
    stream = keys.public(envelope.type) if user_id is None else keys.private(user_id, envelope.type)
    script_keys = [keys.seen(envelope.id), stream, keys.epoch(stream), keys.trimmed(stream)]
    if user_id is not None:
        script_keys += [keys.feed, keys.epoch(keys.feed), keys.trimmed(keys.feed)]
    args = [
        envelope.id,
        envelope.type,
        json.dumps(envelope.data, separators=(",", ":")),
        "" if user_id is None else str(user_id),
        secrets.token_hex(6),
        secrets.token_hex(6),
        config.history_events,
        config.history_seconds * 1000,
        config.history_max_events,
        config.history_idle_seconds * 1000,
        config.dedupe_seconds * 1000,
        # The trace the pushed frame names: this run's span when tracing is on, else the publisher's.
        tracing.current_traceparent() or envelope.traceparent or "",
    ]
    offset = _sync.for_settings(config).run_record_script(script_keys, args)
    return offset.decode() if isinstance(offset, bytes) else offset


class HistoryGap(Exception):
    """The history after an offset is not whole: another epoch, or trimmed past it."""


async def read_after(client, stream: str, offset: Offset, *, batch: int) -> AsyncIterator[list[tuple[str, dict]]]:
    """The entries of `stream` after `offset`, oldest first, `batch` at a time; raises
    HistoryGap (possibly after some batches) when the history is not whole."""
    position = offset.entry_id
    while True:
        pipe = client.pipeline(transaction=True)
        pipe.get(Keys.epoch(stream))
        pipe.get(Keys.trimmed(stream))
        pipe.xrange(stream, f"({position}", "+", count=batch)
        epoch, trimmed, entries = await pipe.execute()
        if epoch != offset.epoch:
            raise HistoryGap(f"{stream}: epoch {epoch!r}, offset from epoch {offset.epoch!r}")
        if trimmed is not None and parse_entry_id(trimmed) > parse_entry_id(position):
            raise HistoryGap(f"{stream}: trimmed up to {trimmed}, after {position}")
        if not entries:
            return
        yield entries
        if len(entries) < batch:
            return
        position = entries[-1][0]
