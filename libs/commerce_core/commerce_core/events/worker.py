"""A service's event worker: two threads beside whatever else the process does.

- `EventConsumer` takes the service's queue in batches and records every
  delivery's outcome (delivery.py) before acknowledging it. When recording fails
  (the database is away), it keeps the batch unacknowledged and tries again with
  backoff; when the broker goes away, it reconnects with backoff.
- `Housekeeping`, once a second: writes the heartbeat with the bus's state
  (heartbeat.py); notices a broker that lost its queues and has the outbox send
  again what it sent shortly before; relays unsent outbox rows; runs due retries
  and the service's periodic jobs; re-declares the queue now and then.

`EventWorkerStep` starts and stops both inside a Celery worker (celery_app.py).
"""

import logging
import threading
import time
from datetime import timedelta

import redis
from celery import bootsteps
from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from ..observability import metrics
from .broker import default_broker
from .broker_base import Broker, Delivery, QueueConsumer
from .checks import check_subscriptions
from .delivery import Received, record_batch, run_due_retries
from .heartbeat import TTL_SECONDS, WorkerStatus, heartbeat_key
from .models import BusState, DeadLetter, ScheduledRetry
from .outbox import backlog, relay_pending, resend_since
from .periodic import registered_jobs
from .routing import events_queue, subscriptions

logger = logging.getLogger(__name__)

BROKER_EPOCH_KEY = "broker_epoch"


class EventConsumer:
    """Consumes one queue in batches, on a thread of its own."""

    #: How long one wait for the next message lasts before the loop looks up again.
    IDLE_WAIT_SECONDS = 1.0
    #: How often messages another worker left unacknowledged are looked for.
    RECLAIM_EVERY_SECONDS = 30.0

    def __init__(self, broker: Broker, queue: str, *, batch_size: int, batch_gap: float):
        self.broker = broker
        self.queue = queue
        self.batch_size = batch_size
        self.batch_gap = batch_gap
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: Why the last batch could not be recorded, while it cannot (None when fine).
        self.recording_error: str | None = None
        #: Since when the consumer has had no broker connection (None while connected).
        self.disconnected_since: float | None = time.time()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"events-{self.queue}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    # --- the loop --------------------------------------------------------------------
    def _run(self) -> None:
        delay = 0.5
        while not self._stop.is_set():
            consumer = None
            recorded: list[Delivery] = []  # their outcomes are committed: acknowledged with the next fetch
            try:
                consumer = self.broker.consumer(self.queue, prefetch=self.batch_size)
                self.disconnected_since, delay = None, 0.5
                reclaimed_at = 0.0
                while not self._stop.is_set():
                    if time.monotonic() - reclaimed_at >= self.RECLAIM_EVERY_SECONDS:
                        reclaimed_at = time.monotonic()
                        consumer.ack(self._record(consumer.reclaim(), consumer))
                    deliveries = consumer.fetch(
                        wait=self.IDLE_WAIT_SECONDS, limit=self.batch_size, gap=self.batch_gap, ack=recorded
                    )
                    recorded = self._record(deliveries, consumer)
                consumer.ack(recorded)
            except Exception as exc:  # the broker went away (or never came): try again
                if self.disconnected_since is None:
                    self.disconnected_since = time.time()
                logger.warning(
                    "event consumer of %s lost the broker (%s); reconnecting in %.1fs", self.queue, exc, delay
                )
                self._stop.wait(delay)
                delay = min(delay * 2, 10.0)
            finally:
                # Unacknowledged messages go back (RabbitMQ) or stay pending for this
                # consumer's next start (Redis): never lost.
                if consumer is not None:
                    consumer.close()
                connection.close()

    def _record(self, deliveries: list[Delivery], consumer: QueueConsumer) -> list[Delivery]:
        """Record the outcome of every delivery (record_batch), trying again while that
        fails; returns the deliveries recorded, for the caller to acknowledge ([] when
        stopping first: unacknowledged, they are delivered again)."""
        if not deliveries:
            return []
        batch = [Received.parse(delivery.body, delivery) for delivery in deliveries]
        delay = 0.5
        while True:
            try:
                close_old_connections()
                record_batch(batch)
                break
            except Exception as exc:  # nothing was recorded: keep the messages, try again
                if self.recording_error is None:
                    logger.exception("recording %d deliveries failed; keeping them and retrying", len(batch))
                self.recording_error = f"{type(exc).__name__}: {exc}"[:300]
                connection.close()
                if self._stop.wait(delay):
                    return []  # stopping: unacknowledged, the messages are delivered again
                consumer.keep_alive()
                delay = min(delay * 2, 30.0)
        self.recording_error = None
        return deliveries

    def problems(self) -> list[str]:
        found = []
        if self.recording_error:
            found.append(f"cannot record deliveries: {self.recording_error}")
        if self.disconnected_since is not None and time.time() - self.disconnected_since > 10:
            found.append(f"no broker connection for {time.time() - self.disconnected_since:.0f}s")
        return found


class Housekeeping:
    """Everything a worker does on a clock, on one daemon thread (see module docstring)."""

    DECLARE_EVERY_SECONDS = 30.0
    FIGURES_EVERY_SECONDS = 5.0
    #: How long after noticing a lost broker epoch late "sent" marks are still looked for.
    RECOVERY_SECONDS = 60.0

    def __init__(self, broker: Broker, *, service: str, consumer: EventConsumer | None):
        self.broker = broker
        self.service = service
        self.consumer = consumer
        self.config = settings.COMMERCE_EVENTS
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._redis = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
        self._status = WorkerStatus(at=time.time())
        self._last_declare = 0.0
        self._last_figures = 0.0
        self._recovering_until = 0.0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="events-housekeeping", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        try:
            self._redis.delete(heartbeat_key(self.service))
        except redis.RedisError:
            pass

    def _run(self) -> None:
        interval = self.config["RELAY_INTERVAL_SECONDS"]
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(interval)

    def tick(self) -> None:
        problems: list[str] = []
        for step in (self._check_broker_epoch, self._declare_queue, relay_pending, run_due_retries, self._run_jobs):
            try:
                step()
            except Exception as exc:  # each step fails alone and is tried again next tick
                logger.warning("worker housekeeping: %s failed: %s", getattr(step, "__name__", step), exc)
                problems.append(f"{getattr(step, '__name__', step)} failed: {exc}"[:300])
            finally:
                close_old_connections()
        self._beat(problems)

    # --- the steps -----------------------------------------------------------------------
    def _check_broker_epoch(self) -> None:
        """A broker epoch that changed means the broker lost its queues (a Redis
        restarted empty): whatever this service sent in the old epoch shortly before
        may have been in them, so it is sent again (consumers skip what they handled).
        For a while after the change the check is repeated, for the sends whose
        "sent" mark was written only after the first one."""
        current = self.broker.epoch()
        if current is None:
            return
        known = BusState.objects.filter(key=BROKER_EPOCH_KEY).first()
        changed = known is not None and known.value != current
        if changed:
            self._recovering_until = time.monotonic() + self.RECOVERY_SECONDS
        if changed or time.monotonic() < self._recovering_until:
            window = self.config["RESEND_WINDOW_SECONDS"]
            count = resend_since(timezone.now() - timedelta(seconds=window), unless_epoch=current)
            if changed or count:
                logger.warning(
                    "the broker lost its queues (now epoch %s): sending again the %d event(s) of the last %.0fs",
                    current,
                    count,
                    window,
                )
        if known is None or changed:
            BusState.objects.update_or_create(key=BROKER_EPOCH_KEY, defaults={"value": current})

    def _declare_queue(self) -> None:
        if self.consumer is None or not self.broker.options.is_amqp:
            return
        now = time.monotonic()
        if now - self._last_declare >= self.DECLARE_EVERY_SECONDS:
            self.broker.declare([self.consumer.queue])
            self._last_declare = now

    def _run_jobs(self) -> None:
        now = time.monotonic()
        for job in registered_jobs():
            if not job.due(now):
                continue
            try:
                job.func()
            except Exception:
                logger.exception("periodic job %s failed", job.name)
            finally:
                job.ran(now)
                close_old_connections()

    def _beat(self, problems: list[str]) -> None:
        status = self._status
        status.at = time.time()
        now = time.monotonic()
        if now - self._last_figures >= self.FIGURES_EVERY_SECONDS:
            self._last_figures = now
            try:
                status.outbox_unsent, status.outbox_oldest_seconds = backlog()
                status.retries_scheduled = ScheduledRetry.objects.count()
                status.dead_letters = DeadLetter.objects.filter(replayed_at__isnull=True).count()
                if self.consumer is not None:
                    status.queue_depth = self.broker.depth(self.consumer.queue)
            except Exception as exc:
                problems.append(f"reading the bus's figures failed: {exc}"[:300])
        alarm = self.config["OUTBOX_ALARM_SECONDS"]
        if status.outbox_unsent and status.outbox_oldest_seconds > alarm:
            problems.append(
                f"{status.outbox_unsent} event(s) unsent in the outbox, the oldest for "
                f"{status.outbox_oldest_seconds:.0f}s"
            )
        if self.consumer is not None:
            problems.extend(self.consumer.problems())
        status.problems = problems
        metrics.worker_status(status, queue=self.consumer.queue if self.consumer is not None else None)
        try:
            self._redis.set(heartbeat_key(self.service), status.to_json(), ex=TTL_SECONDS)
        except redis.RedisError as exc:
            logger.warning("worker heartbeat failed: %s", exc)


class EventWorker:
    """The consumer (when the service subscribes to anything) and the housekeeping."""

    def __init__(self, *, service: str | None = None, broker: Broker | None = None):
        self.service = service or settings.SERVICE_NAME
        self.broker = broker or default_broker()
        config = settings.COMMERCE_EVENTS
        consume = bool(subscriptions().get(self.service))
        self.consumer = (
            EventConsumer(
                self.broker,
                events_queue(self.service),
                batch_size=config["BATCH_SIZE"],
                batch_gap=config["BATCH_GAP_SECONDS"],
            )
            if consume
            else None
        )
        self.housekeeping = Housekeeping(self.broker, service=self.service, consumer=self.consumer)

    def start(self) -> None:
        if self.consumer is not None:
            self.consumer.start()
        self.housekeeping.start()

    def stop(self) -> None:
        if self.consumer is not None:
            self.consumer.stop()
        self.housekeeping.stop()


class EventWorkerStep(bootsteps.StartStopStep):
    """Runs an `EventWorker` for as long as the Celery worker runs."""

    requires = {"celery.worker.components:Pool"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.events: EventWorker | None = None
        self.metrics_server = None

    def start(self, worker) -> None:
        check_subscriptions(settings.SERVICE_NAME, raise_on_error=True)
        self.events = EventWorker()
        self.events.start()
        # Prometheus scrapes the worker on a port of its own (observability/metrics.py).
        self.metrics_server = metrics.serve(settings.SERVICE_NAME, "worker")

    def stop(self, worker) -> None:
        if self.events is not None:
            self.events.stop()
        if self.metrics_server is not None:
            self.metrics_server.shutdown()
            self.metrics_server = None

    # A cold shutdown terminates steps instead of stopping them.
    terminate = stop
