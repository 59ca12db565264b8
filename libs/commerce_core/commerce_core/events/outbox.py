"""Publishing: the transactional outbox.

`publish()` stores the event in the caller's transaction and sends it right after
that transaction commits (no polling delay on the happy path). If the send fails or
the process dies first, the row stays unsent and `relay_pending()`, run by the
service's worker every second, sends it again. A rolled-back transaction takes its
outbox rows with it, so nothing is published for a change that never happened.

Rows are marked sent in batches (`sent_marks`), a fraction of a second after their
send, instead of by one more write transaction per event on the request's path. A
mark lost with its process only means the relay sends that event once more, which
the consumers' inbox absorbs.
"""

import atexit
import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from ..web.request_id import current_request_id
from .contracts import EventContract
from .envelope import Envelope
from .models import OutboxMessage
from .transport import send_envelope

logger = logging.getLogger(__name__)


def publish(event: EventContract) -> OutboxMessage:
    """Record `event` for publication when the current transaction commits."""
    envelope = Envelope.wrap(event, source=settings.SERVICE_NAME, correlation_id=current_request_id.get())
    message = OutboxMessage.objects.create(
        event_id=envelope.id,
        event_type=envelope.type,
        subject=envelope.subject or "",
        correlation_id=envelope.correlationid or "",
        envelope=envelope.to_dict(),
    )
    transaction.on_commit(lambda: send_outbox_message(message), robust=True)
    return message


def send_outbox_message(message: OutboxMessage) -> bool:
    try:
        send_envelope(message.envelope)
    except Exception as exc:  # the relay sends it again; the change itself is committed
        logger.warning("sending event %s failed, the relay will retry: %s", message.event_id, exc)
        OutboxMessage.objects.filter(pk=message.pk).update(
            send_attempts=F("send_attempts") + 1, last_error=str(exc)[:2000]
        )
        return False
    sent_marks.add(message.pk)
    return True


class SentMarks:
    """Outbox rows sent but not yet marked, written by a daemon thread every
    `FLUSH_INTERVAL_SECONDS` in one UPDATE (well before the relay's `RELAY_AFTER`)."""

    FLUSH_INTERVAL_SECONDS = 0.2

    def __init__(self):
        self._pending: list = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, event_id) -> None:
        with self._lock:
            self._pending.append(event_id)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="outbox-sent-marks", daemon=True)
                self._thread.start()

    def flush(self) -> int:
        """Mark every row sent so far; returns how many. Safe to call from any thread."""
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return 0
        try:
            OutboxMessage.objects.filter(pk__in=batch, sent_at__isnull=True).update(
                sent_at=timezone.now(), send_attempts=F("send_attempts") + 1
            )
        except Exception as exc:  # unmarked rows are only re-sent by the relay, never lost
            logger.warning("marking %d outbox rows sent failed: %s", len(batch), exc)
        return len(batch)

    def _run(self) -> None:
        while not self._wake.wait(self.FLUSH_INTERVAL_SECONDS):
            if self.flush():
                # This thread's own connection; not held open between bursts.
                connection.close()


sent_marks = SentMarks()
atexit.register(sent_marks.flush)


def relay_pending(*, older_than_seconds: float | None = None, limit: int = 500) -> int:
    """Send the outbox rows still unsent some time after their commit; returns how many went out.

    Rows younger than `older_than_seconds` are left to the on-commit send that is
    probably under way; sending one twice is harmless (consumers are idempotent).
    """
    if older_than_seconds is None:
        older_than_seconds = settings.COMMERCE_EVENTS["RELAY_AFTER_SECONDS"]
    sent_marks.flush()  # so this process never re-sends what it sent itself
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    sent = 0
    with transaction.atomic():
        pending = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True, created_at__lte=cutoff)
            .order_by("created_at")[:limit]
        )
        for message in pending:
            sent += send_outbox_message(message)
    return sent
