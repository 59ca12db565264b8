"""Publishing: the transactional outbox.

`publish()` stores the event in the caller's transaction. Once that transaction
commits, the event is handed to this process's sender, whose threads put it into
every subscriber's queue (routing.py) and then mark it sent, both in batches, off
the request's path. A rolled-back transaction takes its outbox rows with it, so nothing
is published for a change that never happened.

Nothing is lost between the commit and the broker: a row is marked sent only after
the broker took the event (RabbitMQ confirms it). If the broker is unreachable, the
process dies first, or the mark is lost, the row stays unsent and `relay_pending()`,
run by the service's worker every second, sends it again. Sending an event twice is
harmless: every consumer handles an event id once (delivery.py).

`resend_since()` marks rows already sent as unsent again: what the worker does when
the broker lost its queues (a Redis restarted empty, see worker.py), and what an
operator does with `manage.py resend_outbox --since ...`. Each row records the
Redis broker's epoch it was sent in, read before the send: a row whose mark
arrives after the worker's resend still carries the lost epoch, and is sent again.
"""

import atexit
import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F, Min
from django.utils import timezone

from .. import faults
from ..databases import direct
from ..databases.inserts import insert_sql
from ..observability import metrics, tracing
from ..web.request_id import current_request_id
from .broker import default_broker
from .broker_base import Sent
from .contracts import EventContract
from .envelope import Envelope
from .models import OutboxMessage
from .routing import queues_for

logger = logging.getLogger(__name__)


def publish(event: EventContract) -> OutboxMessage:
    """Record `event` for publication when the current transaction commits.

    With tracing on, a `publish` span covers it and the envelope carries its
    `traceparent`: every handler's run on the event is a child of it."""
    with tracing.publishing(event.event_type) as publication:
        envelope = Envelope.wrap(
            event,
            source=settings.SERVICE_NAME,
            correlation_id=current_request_id.get(),
            traceparent=publication.traceparent,
        )
        publication.identify(envelope.id)
        body = envelope.to_dict()
        message = OutboxMessage(
            event_id=envelope.id,
            event_type=envelope.type,
            subject=envelope.subject or "",
            correlation_id=envelope.correlationid or "",
            envelope=body,
        )
        _insert(message)
    transaction.on_commit(lambda: _committed(message.pk, body), robust=True)
    return message


#: Every column of a row, the id included: written in full by `_insert`.
_OUTBOX_FIELDS = OutboxMessage._meta.local_concrete_fields
_OUTBOX_COLUMNS = tuple(field.name for field in _OUTBOX_FIELDS)


def _insert(message: OutboxMessage) -> None:
    """`message.save()` in one INSERT whose text is built once per backend. Through
    the ORM, compiling the statement cost more CPU than running it: about 0.2 ms of
    every publish, and a paid order publishes ten events. It runs on the driver's
    cursor (databases/direct.py). The row's primary key is the event's id, so
    nothing needs to come back from the database."""
    database = transaction.get_connection()
    # pre_save fills what the database does not (created_at); the prep is the ORM's own.
    values = [field.get_db_prep_save(field.pre_save(message, add=True), database) for field in _OUTBOX_FIELDS]
    direct.execute(database, insert_sql(database, OutboxMessage, _OUTBOX_COLUMNS), values)
    message._state.adding, message._state.db = False, database.alias


def _committed(pk, body: dict) -> None:
    metrics.event_published(body["type"])
    sender.submit(pk, body)


def send_many(envelopes: list[dict]) -> Sent:
    """Several envelopes, each into every queue subscribed to its type, in as few
    broker round trips as possible: per envelope, the error that kept it from the
    broker, or None, and the epoch they were sent in. An event type nobody
    subscribes to goes nowhere, by design."""
    return default_broker().publish_many([(envelope, queues_for(envelope["type"])) for envelope in envelopes])


#: Put in the sender's queue by `flush()`, and passed on to the marker's once what
#: came before it was sent: mark what was sent now, without waiting.
_FLUSH = object()


class OutboxSender:
    """This process's sender: two daemon threads, one that publishes committed events
    and one that marks them sent.

    Handing the event over costs the request a queue put; the broker round trips
    happen on the sending thread, together for every event that committed
    meanwhile. Rows sent are marked a little later (`MARK_DELAY_SECONDS`), in one
    UPDATE for every batch sent meanwhile: with one UPDATE per batch, a service
    publishing a few events per request spent as many statements marking rows as
    writing them.

    The marks are written by a thread of their own because an UPDATE may wait for
    the database: on SQLite, for the write lock, which the process's requests take
    at every write, and SQLite's busy handler looks for a free lock only after
    sleeping 1, 2, 5, 10... up to 100 ms at a time. While the sending thread wrote
    the marks itself, every event committed meanwhile waited for that UPDATE: at
    200 events/s on the slowest machine, stalls of 200-500 ms, several a run, and a
    delivery p99 of 150-270 ms against a p50 of 2 ms. Now a waiting mark delays
    only the mark, which the relay does not look at before `RELAY_AFTER_SECONDS`.
    The sending thread never touches the database."""

    MAX_BATCH = 500
    #: A sent row is marked at most this long after its send. Far below the relay's
    #: `RELAY_AFTER_SECONDS`, so the relay leaves it alone meanwhile; a process that
    #: dies in between leaves it unmarked, and the relay sends it once more (harmless).
    MARK_DELAY_SECONDS = 0.1
    #: An idle marker closes its database connection after this many seconds.
    IDLE_SECONDS = 5.0

    def __init__(self):
        #: (row id, envelope) to send, or _FLUSH.
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        #: What the sending thread hands the marker: _Sent, _Failed or _FLUSH.
        self._marks: queue.SimpleQueue = queue.SimpleQueue()
        self._sending: threading.Thread | None = None
        self._marking: threading.Thread | None = None
        self._progress = threading.Condition()
        self._submitted = 0
        self._finished = 0

    def submit(self, pk, envelope: dict) -> None:
        with self._progress:
            self._submitted += 1
            # Started on first use, and again in a forked child, which inherits the
            # objects but not the threads.
            self._sending = _running(self._sending, self._run_sender, "outbox-sender")
            self._marking = _running(self._marking, self._run_marker, "outbox-marker")
        self._queue.put((pk, envelope))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted so far was sent and marked (or failed); True if it was."""
        with self._progress:
            target = self._submitted
            if self._finished >= target:
                return True
        self._queue.put(_FLUSH)
        with self._progress:
            return self._progress.wait_for(lambda: self._finished >= target, timeout)

    # --- the sending thread ------------------------------------------------------------
    def _run_sender(self) -> None:
        while True:
            items = _taken(self._queue, self._queue.get(), self.MAX_BATCH)
            sends = [item for item in items if item is not _FLUSH]
            if sends:
                try:
                    self._send_batch(sends)
                except Exception:  # the sender must go on; the relay sends these rows again
                    logger.exception("sending %d events failed", len(sends))
                    self._finish(len(sends))
            if len(sends) < len(items):
                self._marks.put(_FLUSH)  # after the marks of everything sent before the flush

    def _send_batch(self, items: list) -> None:
        faults.point("outbox.before_send")  # the drills kill the process here, after the commit
        try:
            sent = send_many([envelope for _, envelope in items])
        except Exception as exc:  # the relay sends them again; the changes themselves are committed
            sent = Sent([exc] * len(items))
        done, failed = [], []
        for (pk, _), error in zip(items, sent.errors, strict=True):
            if error is None:
                done.append(pk)
            else:
                failed.append((pk, error))
        if done:
            self._marks.put(_Sent(sent.epoch, done))
        if failed:
            self._marks.put(_Failed(failed))

    # --- the marking thread ------------------------------------------------------------
    def _run_marker(self) -> None:
        unmarked: dict[str, list] = {}  # row ids sent, by the broker epoch they were sent in
        due = 0.0
        while True:
            wait = max(0.0, due - time.monotonic()) if unmarked else self.IDLE_SECONDS
            try:
                first = self._marks.get(timeout=wait)
            except queue.Empty:
                if unmarked:
                    self._mark(unmarked)
                    unmarked = {}
                else:
                    connection.close()  # this thread's own; not held while nothing happens
                continue
            flushing = False
            for item in _taken(self._marks, first, self.MAX_BATCH):
                if item is _FLUSH:
                    flushing = True
                elif isinstance(item, _Failed):
                    self._note_failures(item.rows)
                else:
                    if not unmarked:
                        due = time.monotonic() + self.MARK_DELAY_SECONDS
                    unmarked.setdefault(item.epoch, []).extend(item.pks)
            if unmarked and (flushing or time.monotonic() >= due):
                self._mark(unmarked)
                unmarked = {}

    def _mark(self, unmarked: dict[str, list]) -> None:
        try:
            close_old_connections()
            for epoch, pks in unmarked.items():
                mark_sent(pks, epoch=epoch)
        except Exception as exc:  # unmarked rows are only sent once more by the relay, never lost
            logger.warning("marking sent events failed: %s", exc)
        self._finish(sum(len(pks) for pks in unmarked.values()))

    def _note_failures(self, failed: list[tuple]) -> None:
        try:
            close_old_connections()
            for pk, exc in failed:
                logger.warning("sending event %s failed, the relay will retry: %s", pk, exc)
                note_send_failure(pk, exc)
        except Exception as exc:  # the rows stay unsent: the relay retries them anyway
            logger.warning("recording %d failed sends failed: %s", len(failed), exc)
        self._finish(len(failed))

    def _finish(self, count: int) -> None:
        with self._progress:
            self._finished += count
            self._progress.notify_all()


@dataclass(frozen=True)
class _Sent:
    epoch: str
    pks: list


@dataclass(frozen=True)
class _Failed:
    rows: list[tuple]  # (row id, the error)


def _running(thread: threading.Thread | None, target, name: str) -> threading.Thread:
    """`thread` while it runs; otherwise a new daemon thread running `target`."""
    if thread is not None and thread.is_alive():
        return thread
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


def _taken(source: queue.SimpleQueue, first, limit: int) -> list:
    """`first` and whatever else waits in `source` right now, up to `limit` in all."""
    items = [first]
    while len(items) < limit:
        try:
            items.append(source.get_nowait())
        except queue.Empty:
            break
    return items


sender = OutboxSender()
atexit.register(sender.flush, 5.0)


def mark_sent(pks: list, *, epoch: str) -> None:
    OutboxMessage.objects.filter(pk__in=pks, sent_at__isnull=True).update(
        sent_at=timezone.now(), sent_epoch=epoch, send_attempts=F("send_attempts") + 1, last_error=""
    )


def note_send_failure(pk, exc: BaseException) -> None:
    OutboxMessage.objects.filter(pk=pk).update(
        send_attempts=F("send_attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000]
    )


def relay_pending(*, older_than_seconds: float | None = None, limit: int = 500) -> int:
    """Send the outbox rows still unsent some time after their commit; returns how many went out.

    Rows younger than `older_than_seconds` are left to the sender that is probably
    about to send them; sending one twice is harmless.
    """
    if older_than_seconds is None:
        older_than_seconds = settings.COMMERCE_EVENTS["RELAY_AFTER_SECONDS"]
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    due = OutboxMessage.objects.filter(sent_at__isnull=True, created_at__lte=cutoff)
    # A plain read first: nearly always nothing is due, and on SQLite the transaction
    # below takes the database's write lock at its BEGIN, every second, in every process.
    if not due.exists():
        return 0
    sent = 0
    with transaction.atomic():
        pending = list(due.select_for_update(skip_locked=True).order_by("created_at")[:limit])
        delivered = []
        sent = send_many([message.envelope for message in pending]) if pending else Sent([])
        for message, error in zip(pending, sent.errors, strict=True):
            if error is None:
                delivered.append(message.pk)
            else:
                logger.warning("relaying event %s failed: %s", message.event_id, error)
                note_send_failure(message.pk, error)
        if delivered:
            mark_sent(delivered, epoch=sent.epoch)
        sent = len(delivered)
    return sent


def resend_since(moment: datetime, *, unless_epoch: str | None = None) -> int:
    """Mark every row sent at or after `moment` as unsent, so the relay sends it again;
    returns how many. With `unless_epoch`, only those sent in another broker epoch.
    Consumers skip the events they already handled."""
    rows = OutboxMessage.objects.filter(sent_at__gte=moment)
    if unless_epoch is not None:
        rows = rows.exclude(sent_epoch=unless_epoch)
    return rows.update(sent_at=None, sent_epoch="")


def backlog() -> tuple[int, float]:
    """(rows not yet sent, seconds since the oldest of them was committed)."""
    unsent = OutboxMessage.objects.filter(sent_at__isnull=True)
    count = unsent.count()
    if not count:
        return 0, 0.0
    oldest = unsent.aggregate(oldest=Min("created_at"))["oldest"]
    return count, max(0.0, time.time() - oldest.timestamp())
