"""Consuming: what happens to the events a worker takes from its queue.

`record_batch()` runs this service's handlers on a batch of received messages and
stores, in the service's database, the outcome of every (event, handler):

- it ran: an inbox row, committed in the same transaction as the handler's effects,
  so a redelivered event is skipped;
- it failed: a scheduled retry (models.ScheduledRetry), which the worker runs
  again after a backoff with jitter, and parks as a dead letter when it failed
  `MAX_RETRIES` more times;
- the message is not a valid event at all: a dead letter, at once (retrying cannot
  fix it).

The worker acknowledges a message only after `record_batch()` returned, that is,
after every outcome is committed. If recording fails (the database is away), the
messages are not acknowledged and are taken up again later; nothing is dropped.

One transaction serves the whole batch. Handlers run without savepoints while
they succeed, their own nested `atomic` blocks included (`_savepoints_skipped`);
if one fails, the batch's transaction is rolled back and run again "carefully",
every handler in a savepoint of its own, so that a failing handler leaves no
effect while the others keep theirs.
"""

import functools
import logging
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from .. import faults
from ..databases import direct
from ..databases.inserts import insert_sql
from ..observability import metrics, tracing
from ..web.request_id import current_request_id
from .envelope import Envelope, MalformedEvent
from .models import DeadLetter, InboxMessage, ScheduledRetry
from .registry import Handler, handler_named, handlers_for

logger = logging.getLogger(__name__)


@dataclass
class Received:
    """One message taken from the queue: its envelope, or why it is not a valid event."""

    body: Any
    envelope: Envelope | None = None
    malformed: str = ""
    #: The broker's message, acknowledged once the outcome is recorded (None in tests).
    message: Any = field(default=None, repr=False)

    @classmethod
    def parse(cls, body, message=None) -> "Received":
        body = _unwrap_legacy_task(body)
        try:
            return cls(body=body, envelope=Envelope.from_dict(body), message=message)
        except MalformedEvent as exc:
            return cls(body=body, malformed=str(exc), message=message)


def _unwrap_legacy_task(body):
    """Messages queued by earlier releases are Celery task messages,
    `[[envelope], {}, {...}]`; their envelope is handled like any other."""
    if isinstance(body, list) and len(body) == 3 and isinstance(body[0], list) and len(body[0]) == 1:
        return body[0][0]
    return body


@dataclass
class BatchOutcome:
    handled: int = 0  # handler runs that committed
    skipped: int = 0  # (event, handler) already handled before
    retries_scheduled: int = 0
    dead_lettered: int = 0


class _HandlerFailed(Exception):
    """Raised inside the fast pass to roll it back and run the batch carefully."""

    def __init__(self, key: tuple[str, str] | None = None, error: BaseException | None = None):
        super().__init__(key)
        #: The (event id, handler) that failed and how: its retry is scheduled without a second run.
        self.key = key
        self.error = error


# --- the batch --------------------------------------------------------------------------


def record_batch(batch: list[Received]) -> BatchOutcome:
    """Run every handler of this service on the batch and record each outcome (see
    the module docstring). Raises only when nothing could be recorded."""
    outcome = BatchOutcome()
    events = [received for received in batch if received.envelope is not None]
    malformed = [received for received in batch if received.envelope is None]
    if events:
        if any(handler.atomic for received in events for handler in handlers_for(received.envelope.type)):
            try:
                with transaction.atomic(), _savepoints_skipped():
                    _run_in_transaction(events, outcome)
            except _HandlerFailed as failure:
                outcome = BatchOutcome()
                with transaction.atomic():
                    _run_in_transaction(events, outcome, careful=True, failure=failure)
        _run_outside_transactions(events, outcome)
    if malformed:
        _park_malformed(malformed)
        outcome.dead_lettered += len(malformed)
    return outcome


@contextmanager
def _savepoints_skipped() -> Iterator[None]:
    """Nested `atomic` blocks open no savepoint in here (Django then treats them as
    `savepoint=False`), for the fast pass only.

    A handler's services nest `atomic` blocks, and on PostgreSQL each costs two
    round trips (SAVEPOINT, RELEASE): about one statement in six of a paid order
    was one of these. The fast pass needs none of them: any failure rolls the whole
    batch back and runs it carefully, where every savepoint is real. A nested block
    that fails leaves the transaction marked for rollback, even when the handler
    catches the error; `_run_in_transaction` then runs the batch carefully, that
    handler included.

    Django asks its connection wrapper `_savepoint_allowed()` before each savepoint
    (both backends, SQLite's own rule included); the answer is overridden on this
    thread's wrapper only, so other threads keep their savepoints, and restored
    before the batch's own block ends (a savepoint of a surrounding transaction in
    tests)."""
    wrapper = transaction.get_connection()  # this thread's
    wrapper._savepoint_allowed = _no_savepoint
    try:
        yield
    finally:
        del wrapper._savepoint_allowed  # the backend's own method again


def _no_savepoint() -> bool:
    return False


def _already_handled(events: list[Received], *, atomic: bool) -> set[tuple[str, str]]:
    """The (event id, handler) pairs of the batch that the inbox already holds.

    One plain SELECT on the unique index, on the driver's cursor (databases/direct.py):
    it runs once per batch on every worker, and building it through the ORM cost
    more CPU than the query itself (about 0.3 ms of the 0.9 ms a one-event batch of
    the gateway's worker took)."""
    names = {h.name for received in events for h in handlers_for(received.envelope.type) if h.atomic == atomic}
    if not names:
        return set()
    database = transaction.get_connection()  # once: each use of the `connection` proxy looks it up again
    event_id = InboxMessage._meta.get_field("event_id")
    # Prepared as the ORM prepares `event_id__in=...` (a string that is not a UUID raises alike).
    ids = {event_id.get_db_prep_value(received.envelope.id, database) for received in events}
    rows = direct.fetch_all(database, _inbox_lookup_sql(database.vendor, len(ids), len(names)), [*ids, *names])
    return {(str(event_id.to_python(value)), handler) for value, handler in rows}


@functools.cache
def _inbox_lookup_sql(vendor: str, ids: int, names: int) -> str:
    """The lookup for a batch of this shape, written once per shape; `vendor` keys
    the cache by backend (the names are quoted by it)."""
    database = transaction.get_connection()
    return (
        f"SELECT event_id, handler FROM {database.ops.quote_name(InboxMessage._meta.db_table)} "
        f"WHERE event_id IN ({', '.join(['%s'] * ids)}) AND handler IN ({', '.join(['%s'] * names)})"
    )


def _run_in_transaction(
    events: list[Received],
    outcome: BatchOutcome,
    *,
    careful: bool = False,
    failure: _HandlerFailed | None = None,
) -> None:
    done = _already_handled(events, atomic=True)
    inbox: list[tuple] = []  # _inbox_values
    failures: list[tuple[Envelope, Handler, BaseException]] = []
    for received in events:
        envelope = received.envelope
        for handler in handlers_for(envelope.type):
            if not handler.atomic:
                continue
            key = (envelope.id, handler.name)
            if key in done:
                outcome.skipped += 1
                continue
            done.add(key)  # the same event twice in one batch runs once
            if not careful:
                try:
                    _call(handler, envelope)
                except Exception as exc:
                    if connection.needs_rollback:
                        # It failed in a nested block, which had no savepoint here: the
                        # careful pass runs it again with one, and records what it does.
                        raise _HandlerFailed() from exc
                    logger.exception("handler %s failed on event %s", handler.name, envelope.id)
                    raise _HandlerFailed(key, exc) from exc
                if connection.needs_rollback:  # it went on after a nested block failed: that needs the savepoint
                    raise _HandlerFailed()
                inbox.append(_inbox_values(handler, envelope))
                outcome.handled += 1
                continue
            if failure is not None and key == failure.key:
                # It failed in the fast pass: that run counts, and it is not run twice.
                failures.append((envelope, handler, failure.error))
                continue
            try:
                with transaction.atomic():
                    _insert_inbox_rows([_inbox_values(handler, envelope)], only_new=True)
                    _call(handler, envelope)
            except IntegrityError as exc:
                if InboxMessage.objects.filter(event_id=envelope.id, handler=handler.name).exists():
                    outcome.skipped += 1  # a concurrent worker handled it meanwhile
                    continue
                logger.exception("handler %s failed on event %s", handler.name, envelope.id)
                failures.append((envelope, handler, exc))
            except Exception as exc:
                logger.exception("handler %s failed on event %s", handler.name, envelope.id)
                failures.append((envelope, handler, exc))
            else:
                outcome.handled += 1
    if inbox:
        try:
            _insert_inbox_rows(inbox, only_new=True)
        except IntegrityError as exc:  # another worker of this service handled one meanwhile
            raise _HandlerFailed() from exc  # rolls the whole batch back: no savepoint needed
    if failures:
        schedule_retries(failures, attempts=1)
        outcome.retries_scheduled += len(failures)


def _run_outside_transactions(events: list[Received], outcome: BatchOutcome) -> None:
    """Handlers declared `atomic=False`: run, then recorded together."""
    pending = [
        (received.envelope, handler)
        for received in events
        for handler in handlers_for(received.envelope.type)
        if not handler.atomic
    ]
    if not pending:
        return
    done = _already_handled(events, atomic=False)
    inbox, failures = [], []
    for envelope, handler in pending:
        key = (envelope.id, handler.name)
        if key in done:
            outcome.skipped += 1
            continue
        done.add(key)
        try:
            _call(handler, envelope, in_transaction=False)
        except Exception as exc:
            logger.exception("handler %s failed on event %s", handler.name, envelope.id)
            failures.append((envelope, handler, exc))
        else:
            inbox.append(_inbox_values(handler, envelope))
            outcome.handled += 1
    if not failures:
        _insert_inbox_rows(inbox, only_new=False)
        return
    with transaction.atomic():
        _insert_inbox_rows(inbox, only_new=False)
        schedule_retries(failures, attempts=1)
        outcome.retries_scheduled += len(failures)


_INBOX_COLUMNS = ("event_id", "handler", "event_type", "source", "subject", "correlation_id", "processed_at")


def _insert_inbox_rows(rows: list[tuple], *, only_new: bool) -> None:
    """Inbox rows (`_inbox_values`) in one INSERT, with SQL built once per batch size.
    `only_new`: a row already there (a concurrent worker handled the event) raises
    IntegrityError; otherwise it is left alone.

    `bulk_create` compiles its statement every time, and outside a transaction
    wraps it in one of its own: BEGIN and COMMIT are two more round trips, for every
    batch of the gateway's worker (its push handlers run outside transactions). It
    runs on the driver's cursor (databases/direct.py)."""
    if not rows:
        return
    database = transaction.get_connection()
    meta = InboxMessage._meta
    # Only these two need converting for the backend; the others are strings already.
    event_id, processed_at = meta.get_field("event_id"), meta.get_field("processed_at")
    now = processed_at.get_db_prep_value(timezone.now(), database)
    values = []
    for row_event_id, *strings in rows:
        values += [event_id.get_db_prep_value(row_event_id, database), *strings, now]
    sql = insert_sql(database, InboxMessage, _INBOX_COLUMNS, rows=len(rows), suffix="" if only_new else _LEAVE_EXISTING)
    direct.execute(database, sql, values)


# PostgreSQL and SQLite (3.24 and newer) both spell it so.
_LEAVE_EXISTING = "ON CONFLICT (event_id, handler) DO NOTHING"


def _call(handler: Handler, envelope: Envelope, *, in_transaction: bool = True) -> None:
    token = current_request_id.set(envelope.correlationid)
    try:
        # A span per run of a handler (off: a shared no-op), child of the publisher's.
        with tracing.handling(handler.name, envelope):
            faults.handler_point(handler.name, envelope.subject)  # a poison message, in the drills
            handler.func(envelope.event, envelope)
        # Counted once the run's outcome is committed; outside a transaction, at once
        # (on_commit would say the same after looking the connection up).
        if in_transaction:
            transaction.on_commit(partial(metrics.event_handled, envelope.type, envelope.time))
        else:
            metrics.event_handled(envelope.type, envelope.time)
    finally:
        current_request_id.reset(token)


def _inbox_values(handler: Handler, envelope: Envelope) -> tuple:
    """An inbox row's values in `_INBOX_COLUMNS` order, `processed_at` aside (set at
    the insert): a tuple, since building a model instance for each cost more than
    the rest of the row's recording on the gateway's worker."""
    return (
        envelope.id,
        handler.name,
        envelope.type,
        envelope.source,
        envelope.subject or "",
        envelope.correlationid or "",
    )


def _park_malformed(malformed: list[Received]) -> None:
    letters = []
    for received in malformed:
        body = received.body
        logger.error("malformed event parked in the dead-letter store: %s", received.malformed)
        letters.append(
            DeadLetter(
                event_id=str(body.get("id", ""))[:64] if isinstance(body, dict) else "",
                event_type=str(body.get("type", ""))[:100] if isinstance(body, dict) else "",
                body=body if isinstance(body, dict | list) else {"raw": repr(body)[:10000]},
                error=received.malformed,
                malformed=True,
            )
        )
    DeadLetter.objects.bulk_create(letters)
    for _ in letters:
        transaction.on_commit(partial(metrics.event_dead_lettered, "malformed"))


# --- retries ----------------------------------------------------------------------------


def backoff_seconds(attempts: int) -> float:
    """How long to wait after the `attempts`-th failed run: exponential, capped, with
    jitter so that events failing together do not come back together."""
    config = settings.COMMERCE_EVENTS
    ceiling = min(config["RETRY_BACKOFF_SECONDS"] * (2 ** (attempts - 1)), config["RETRY_BACKOFF_MAX_SECONDS"])
    return ceiling * random.uniform(0.5, 1.0)


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:4000]


def schedule_retries(failures: list[tuple[Envelope, Handler, BaseException]], *, attempts: int) -> None:
    now = timezone.now()
    ScheduledRetry.objects.bulk_create(
        [
            ScheduledRetry(
                event_id=envelope.id,
                handler=handler.name,
                event_type=envelope.type,
                subject=envelope.subject or "",
                envelope=envelope.to_dict(),
                attempts=attempts,
                next_attempt_at=now + timedelta(seconds=backoff_seconds(attempts)),
                last_error=_error_text(exc),
            )
            for envelope, handler, exc in failures
        ],
        # A retry already scheduled for this (event, handler) by an earlier delivery keeps its count.
        ignore_conflicts=True,
    )
    for envelope, _, _ in failures:
        transaction.on_commit(partial(metrics.event_retry_scheduled, envelope.type))


#: A retry taken by a worker is not due again for this long (should that worker die).
RETRY_LEASE_SECONDS = 60.0


def run_due_retries(*, limit: int = 100) -> BatchOutcome:
    """Run the scheduled retries that are due; each ends handled, rescheduled or dead-lettered.

    The due rows are first leased (their next attempt moved a minute on) in a short
    transaction of their own, so that two workers never run one retry at once and a
    worker that dies leaves it due again; each then runs in a transaction of its own,
    or, for a handler declared `atomic=False`, outside any transaction."""
    outcome = BatchOutcome()
    now = timezone.now()
    with transaction.atomic():
        due = list(
            ScheduledRetry.objects.select_for_update(skip_locked=True)
            .filter(next_attempt_at__lte=now)
            .order_by("next_attempt_at")[:limit]
        )
        if due:
            lease = now + timedelta(seconds=RETRY_LEASE_SECONDS)
            ScheduledRetry.objects.filter(pk__in=[retry.pk for retry in due]).update(next_attempt_at=lease)
    for retry in due:
        _run_retry(retry, outcome)
    return outcome


def _run_retry(retry: ScheduledRetry, outcome: BatchOutcome) -> None:
    try:
        envelope = Envelope.from_dict(retry.envelope)
    except MalformedEvent as exc:  # its contract changed since: an operator has to look
        _dead_letter(retry, exc)
        outcome.dead_lettered += 1
        return
    handler = handler_named(retry.handler, retry.event_type)
    if handler is None:
        _dead_letter(retry, LookupError(f"no handler {retry.handler} for {retry.event_type} any more"))
        outcome.dead_lettered += 1
        return
    if InboxMessage.objects.filter(event_id=envelope.id, handler=handler.name).exists():
        retry.delete()  # handled meanwhile (a redelivery, another worker)
        outcome.skipped += 1
        return
    try:
        if handler.atomic:
            with transaction.atomic():
                _insert_inbox_rows([_inbox_values(handler, envelope)], only_new=True)
                _call(handler, envelope)
                retry.delete()
        else:
            _call(handler, envelope, in_transaction=False)  # its effect lies outside the database
            with transaction.atomic():
                _insert_inbox_rows([_inbox_values(handler, envelope)], only_new=False)
                retry.delete()
    except Exception as exc:
        logger.warning("run %d of %s on event %s failed: %s", retry.attempts + 1, handler.name, envelope.id, exc)
        _retry_failed(retry, exc, outcome)
    else:
        outcome.handled += 1


@transaction.atomic
def _retry_failed(retry: ScheduledRetry, exc: BaseException, outcome: BatchOutcome) -> None:
    retry.attempts += 1
    if retry.attempts > settings.COMMERCE_EVENTS["MAX_RETRIES"]:
        _dead_letter(retry, exc)
        outcome.dead_lettered += 1
        return
    retry.next_attempt_at = timezone.now() + timedelta(seconds=backoff_seconds(retry.attempts))
    retry.last_error = _error_text(exc)
    retry.save(update_fields=["attempts", "next_attempt_at", "last_error"])
    outcome.retries_scheduled += 1
    transaction.on_commit(partial(metrics.event_retry_scheduled, retry.event_type))


@transaction.atomic
def _dead_letter(retry: ScheduledRetry, exc: BaseException) -> None:
    logger.error("event %s parked in the dead-letter store after %d runs of %s: %s", retry.event_id,
                 retry.attempts, retry.handler, exc)  # fmt: skip
    DeadLetter.objects.create(
        event_id=str(retry.event_id),
        event_type=retry.event_type,
        handler=retry.handler,
        subject=retry.subject,
        body=retry.envelope,
        error=_error_text(exc),
        attempts=retry.attempts,
    )
    retry.delete()
    transaction.on_commit(partial(metrics.event_dead_lettered, retry.event_type))


# --- dead letters -----------------------------------------------------------------------


@transaction.atomic
def replay(dead_letter: DeadLetter) -> bool:
    """Schedule a parked event's handler again, now, with a fresh retry budget.

    Returns False for a letter replayed already or one that names no handler (a
    malformed message): replaying is meant to work once."""
    letter = DeadLetter.objects.select_for_update().get(pk=dead_letter.pk)
    if letter.replayed_at is not None or letter.malformed or not letter.handler:
        return False
    ScheduledRetry.objects.update_or_create(
        event_id=letter.event_id,
        handler=letter.handler,
        defaults={
            "event_type": letter.event_type,
            "subject": letter.subject,
            "envelope": letter.body,
            "attempts": 0,
            "next_attempt_at": timezone.now(),
            "last_error": "",
        },
    )
    letter.replayed_at = timezone.now()
    letter.save(update_fields=["replayed_at"])
    return True
