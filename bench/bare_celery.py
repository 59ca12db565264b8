"""The reference of the bus throughput benchmark: a bare Celery round trip.

The smallest useful Celery setup on the same private Redis, with the delivery
settings the bus uses (acks_late, reject on worker lost, prefetch ×4, no results),
and a task that does one Redis round trip: INCR a counter (and note the time of
the first and the last task done).

    celery -A bench.bare_celery worker --pool threads --concurrency 4 -Q bare ...
    python -m bench.bare_celery send 2000     # prints when sending started and ended
"""

from __future__ import annotations

import json
import os
import sys
import time

import redis
from celery import Celery
from celery.signals import worker_ready

QUEUE = "bare"
COUNTER = "bench:bare:done"
FIRST_DONE = "bench:bare:first-done"
LAST_DONE = "bench:bare:last-done"
READY = "bench:bare:ready"

app = Celery("bare", broker=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=4,
    task_ignore_result=True,
    task_default_queue=QUEUE,
    broker_connection_retry_on_startup=True,
    broker_transport_options={"visibility_timeout": 300},
)
_client = redis.Redis.from_url(app.conf.broker_url)


@app.task(name="bare.incr")
def incr() -> None:
    now = repr(time.time())
    pipe = _client.pipeline(transaction=False)  # one round trip
    pipe.incr(COUNTER)
    pipe.set(FIRST_DONE, now, nx=True)
    pipe.set(LAST_DONE, now)
    pipe.execute()


@worker_ready.connect
def _announce_ready(**_) -> None:
    _client.set(READY, "1")


def send(count: int) -> dict:
    incr.delay()  # the first send pays for the broker connection
    started, cpu = time.time(), time.process_time()
    for _ in range(count):
        incr.delay()
    return {"started": started, "finished": time.time(), "cpu": time.process_time() - cpu}


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "send":
        sys.exit("usage: python -m bench.bare_celery send N")
    print(json.dumps(send(int(sys.argv[2]))))
