"""The broker under the bus: Redis Streams by default, RabbitMQ when `BROKER_URL`
says `amqp://`.

What the bus asks of a broker is small: put an envelope into named durable queues,
let a worker take a batch from one queue and acknowledge it, put back whatever a
worker took and did not acknowledge (it crashed), and say how deep a queue is.
Routing is the bus's own (routing.py), so a broker never needs bindings.

- Redis (`broker_redis.py`): each queue is a stream read by one consumer group. A
  message a worker reads stays in the group's pending list until acknowledged, on
  the server, atomically with the read; a worker killed at any instant loses
  nothing. (Kombu's Redis transport pops a message with BRPOP and only then
  records it as unacknowledged, from the client: a worker killed in between, or
  stopping with a BRPOP in flight, loses the message. The tests show both.)
- RabbitMQ (`broker_amqp.py`, through Kombu): durable quorum queues, publisher
  confirms, and `mandatory` publishing so that a message no queue took comes back
  as an error instead of vanishing.

A Redis that restarts without persistence loses what its queues held. The bus
notices (the epoch key disappears) and the outbox sends again what was sent
shortly before (outbox.py, worker.py).
"""

from __future__ import annotations

import threading

from .broker_amqp import AmqpBroker
from .broker_base import Broker, BrokerOptions
from .broker_redis import RedisStreamsBroker


def connect(options: BrokerOptions) -> Broker:
    if options.is_amqp:
        return AmqpBroker(options)
    if options.is_redis:
        return RedisStreamsBroker(options)
    raise ValueError(f"BROKER_URL must be redis://, rediss:// or amqp://, not {options.url!r}")


_default: Broker | None = None
_default_lock = threading.Lock()


def default_broker() -> Broker:
    """The broker of this process, from settings (`BROKER_URL`, `COMMERCE_EVENTS`)."""
    global _default
    if _default is None:
        from django.conf import settings

        with _default_lock:
            if _default is None:
                config = settings.COMMERCE_EVENTS
                _default = connect(
                    BrokerOptions(
                        url=settings.BROKER_URL,
                        visibility_timeout=config["VISIBILITY_TIMEOUT_SECONDS"],
                        quorum_queues=config["QUORUM_QUEUES"],
                        consumer_name=config["CONSUMER_NAME"],
                    )
                )
    return _default
