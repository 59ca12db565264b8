"""What runs beside a service's Celery worker: a heartbeat in Redis (read by the
gateway's /health), the outbox relay and the service's periodic jobs. One daemon
thread does them all, every `RELAY_INTERVAL_SECONDS`, so none blocks the consumer."""

import logging
import threading
import time

import redis
from celery import bootsteps
from django.conf import settings
from django.db import close_old_connections

from .periodic import registered_jobs

logger = logging.getLogger(__name__)

HEARTBEAT_TTL_SECONDS = 10


def heartbeat_key(service: str) -> str:
    return f"commerce:worker-heartbeat:{service}"


class Housekeeping(bootsteps.StartStopStep):
    requires = {"celery.worker.components:Pool"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self._stop = threading.Event()
        self._thread = None

    def start(self, worker):
        self._thread = threading.Thread(target=self._run, name="events-housekeeping", daemon=True)
        self._thread.start()

    def stop(self, worker):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            redis.Redis.from_url(settings.REDIS_URL).delete(heartbeat_key(settings.SERVICE_NAME))
        except redis.RedisError:
            pass

    # A cold shutdown terminates steps instead of stopping them.
    terminate = stop

    def _run(self):
        from .outbox import relay_pending

        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
        interval = settings.COMMERCE_EVENTS["RELAY_INTERVAL_SECONDS"]
        while not self._stop.is_set():
            try:
                client.set(heartbeat_key(settings.SERVICE_NAME), str(time.time()), ex=HEARTBEAT_TTL_SECONDS)
            except redis.RedisError as exc:
                logger.warning("worker heartbeat failed: %s", exc)
            try:
                relayed = relay_pending()
                if relayed:
                    logger.info("outbox relay re-sent %d event(s)", relayed)
            except Exception:
                logger.exception("outbox relay failed")
            finally:
                close_old_connections()
            self._run_due_jobs()
            self._stop.wait(interval)

    def _run_due_jobs(self):
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


def install(app) -> None:
    app.steps["worker"].add(Housekeeping)
