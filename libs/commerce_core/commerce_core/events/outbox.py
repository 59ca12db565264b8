"""Publishing: the transactional outbox.

`publish()` stores the event in the caller's transaction and sends it right after
that transaction commits (no polling delay on the happy path). If the send fails or
the process dies first, the row stays unsent and `relay_pending()`, run by the
service's worker every second, sends it again. A rolled-back transaction takes its
outbox rows with it, so nothing is published for a change that never happened.
"""
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
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
        event_id=envelope.id, event_type=envelope.type, subject=envelope.subject or "", correlation_id=envelope.correlationid or "",
        envelope=envelope.to_dict(),
    )
    transaction.on_commit(lambda: send_outbox_message(message), robust=True)
    return message


def send_outbox_message(message: OutboxMessage) -> bool:
    try:
        send_envelope(message.envelope)
    except Exception as exc:  # the relay sends it again; the change itself is committed
        logger.warning("sending event %s failed, the relay will retry: %s", message.event_id, exc)
        OutboxMessage.objects.filter(pk=message.pk).update(send_attempts=F("send_attempts") + 1,
                                                             last_error=str(exc)[:2000])
        return False
    OutboxMessage.objects.filter(pk=message.pk, sent_at__isnull=True).update(
        sent_at=timezone.now(), send_attempts=F("send_attempts") + 1)
    return True


def relay_pending(*, older_than_seconds: float | None = None, limit: int = 500) -> int:
    """Send the outbox rows still unsent some time after their commit; returns how many went out.

    Rows younger than `older_than_seconds` are left to the on-commit send that is
    probably under way; sending one twice is harmless (consumers are idempotent).
    """
    if older_than_seconds is None:
        older_than_seconds = settings.COMMERCE_EVENTS["RELAY_AFTER_SECONDS"]
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    sent = 0
    with transaction.atomic():
        pending = (OutboxMessage.objects.select_for_update(skip_locked=True)
                   .filter(sent_at__isnull=True, created_at__lte=cutoff).order_by("created_at")[:limit])
        for message in pending:
            sent += send_outbox_message(message)
    return sent
