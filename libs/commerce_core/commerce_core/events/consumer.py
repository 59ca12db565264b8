"""Consuming: every process's `events.deliver` task.

For each handler subscribed to the event's type, the handler runs in one database
transaction with the inbox row that marks (event id, handler) as processed, so a
redelivered event is skipped. A failing handler does not stop the others; the event
is retried through the service's own retry queue with exponential backoff, and after
`MAX_RETRIES` it is parked in the dead-letter store. A malformed message is parked
at once: retrying cannot fix it.
"""

import logging

from django.conf import settings
from django.db import IntegrityError, transaction

from ..web.request_id import current_request_id
from .envelope import Envelope, MalformedEvent
from .handlers import Handler, handlers_for
from .models import DeadLetter, InboxMessage
from .transport import DELIVER_TASK, retry_queue_name

logger = logging.getLogger(__name__)


def run_handler_once(handler: Handler, envelope: Envelope) -> bool:
    """Run `handler` unless it already ran for this event; True if it ran now."""
    if not handler.atomic:
        if InboxMessage.objects.filter(event_id=envelope.id, handler=handler.name).exists():
            return False
        handler.func(envelope.event, envelope)
    try:
        with transaction.atomic():
            _record_processed(handler, envelope)
            if handler.atomic:
                handler.func(envelope.event, envelope)
    except IntegrityError:
        if InboxMessage.objects.filter(event_id=envelope.id, handler=handler.name).exists():
            logger.info("event %s already handled by %s, skipped", envelope.id, handler.name)
            return False
        raise
    return True


def _record_processed(handler: Handler, envelope: Envelope) -> None:
    InboxMessage.objects.create(
        event_id=envelope.id,
        handler=handler.name,
        event_type=envelope.type,
        source=envelope.source,
        subject=envelope.subject or "",
        correlation_id=envelope.correlationid or "",
        envelope=envelope.to_dict(),
    )


def backoff_seconds(retries: int) -> float:
    config = settings.COMMERCE_EVENTS
    return min(config["RETRY_BACKOFF_SECONDS"] * (2**retries), config["RETRY_BACKOFF_MAX_SECONDS"])


def deliver(task, body) -> dict:
    try:
        envelope = Envelope.from_dict(body)
    except MalformedEvent as exc:
        logger.error("malformed event parked in the dead-letter store: %s", exc)
        DeadLetter.objects.create(
            event_id=str(body.get("id", ""))[:64] if isinstance(body, dict) else "",
            event_type=str(body.get("type", ""))[:100] if isinstance(body, dict) else "",
            body=body if isinstance(body, dict | list) else {"raw": repr(body)[:10000]},
            error=str(exc),
            malformed=True,
        )
        return {"status": "malformed"}

    token = current_request_id.set(envelope.correlationid)
    try:
        failures = []
        for handler in handlers_for(envelope.type):
            try:
                run_handler_once(handler, envelope)
            except Exception as exc:
                logger.exception("handler %s failed on event %s", handler.name, envelope.id)
                failures.append((handler, exc))
    finally:
        current_request_id.reset(token)

    if not failures:
        return {"status": "done"}
    retries = task.request.retries
    max_retries = settings.COMMERCE_EVENTS["MAX_RETRIES"]
    if retries < max_retries:
        raise task.retry(
            exc=failures[0][1],
            countdown=backoff_seconds(retries),
            max_retries=max_retries,
            queue=retry_queue_name(settings.SERVICE_NAME),
        )
    for handler, exc in failures:
        DeadLetter.objects.create(
            event_id=envelope.id,
            event_type=envelope.type,
            handler=handler.name,
            subject=envelope.subject or "",
            body=envelope.to_dict(),
            error=f"{type(exc).__name__}: {exc}",
            attempts=retries + 1,
        )
    return {"status": "dead-lettered"}


def register_deliver_task(app) -> None:
    @app.task(name=DELIVER_TASK, bind=True, acks_late=True, max_retries=None)
    def deliver_task(self, body):
        return deliver(self, body)


def replay(dead_letter: DeadLetter) -> None:
    """Send a parked event back to this service's own queue, with a fresh retry budget."""
    from django.utils import timezone

    from .transport import bus_app

    bus_app().send_task(DELIVER_TASK, args=[dead_letter.body], queue=retry_queue_name(settings.SERVICE_NAME))
    DeadLetter.objects.filter(pk=dead_letter.pk).update(replayed_at=timezone.now())
