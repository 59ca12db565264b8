"""What the bus asks of a broker, whichever it is: the options, a delivered message,
and the two interfaces the Redis and RabbitMQ brokers implement (see broker.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

#: A random value set when a Redis broker is first used; a Redis restarted empty
#: has none, which is how the bus learns that queued messages were lost.
EPOCH_KEY = "commerce:bus:epoch"


class Unroutable(Exception):
    """The broker accepted no queue for a message (RabbitMQ returned it)."""


@dataclass(frozen=True)
class BrokerOptions:
    url: str
    #: Seconds after which a message delivered but never acknowledged, by a worker
    #: that is gone, is taken over by another worker.
    visibility_timeout: float = 300.0
    #: Seconds to wait for a connection before a publish fails (the outbox keeps the event).
    connect_timeout: float = 5.0
    #: Declare RabbitMQ queues as quorum queues (replicated; the server must be 3.8+).
    quorum_queues: bool = True
    #: This worker's name among the consumers of a queue; a worker that comes back
    #: under the same name takes back at once what it had not acknowledged.
    consumer_name: str = "worker"

    @property
    def is_amqp(self) -> bool:
        return self.url.split("://", 1)[0] in {"amqp", "amqps", "pyamqp"}

    @property
    def is_redis(self) -> bool:
        return self.url.split("://", 1)[0] in {"redis", "rediss", "unix"}


@dataclass
class Sent:
    """What publishing a batch came to."""

    #: Per item, the error that kept it from the broker, or None.
    errors: list[BaseException | None]
    #: The broker's epoch, read before the first item went in: "" when the broker
    #: keeps none (RabbitMQ) or it could not be read (then the items are sent again
    #: should the broker's data turn out lost, which is harmless).
    epoch: str = ""


@dataclass
class Delivery:
    """A message taken from a queue: its decoded body, and what acknowledges it."""

    body: Any
    token: Any


class QueueConsumer(Protocol):
    def fetch(self, *, wait: float, limit: int, gap: float, ack: list[Delivery] = ()) -> list[Delivery]:
        """Up to `limit` messages: waits up to `wait` seconds for the first, then takes
        those that follow within `gap` seconds. Raises on a broken connection.

        `ack`, the batch before, is acknowledged first, in the same round trip where
        the broker allows (Redis)."""

    def ack(self, deliveries: list[Delivery]) -> None: ...

    def reclaim(self) -> list[Delivery]:
        """Messages other consumers took and never acknowledged (they are gone)."""

    def keep_alive(self) -> None:
        """Keep the connection alive while a batch takes long (RabbitMQ heartbeats)."""

    def close(self) -> None:
        """Stop; whatever was taken and not acknowledged goes back to the queue, or
        to this consumer when it comes back under the same name (Redis)."""


class Broker(Protocol):
    options: BrokerOptions

    def publish(self, envelope: dict, queues: list[str]) -> None:
        """Put one envelope into each of `queues`; raises if the broker did not take it."""

    def publish_many(self, items: list[tuple[dict, list[str]]]) -> Sent:
        """Several envelopes in as few round trips as the broker allows."""

    def declare(self, names: list[str]) -> None: ...

    def depth(self, name: str) -> int:
        """Messages in a queue not yet acknowledged."""

    def epoch(self, *, create: bool = True) -> str | None: ...

    def consumer(self, queue: str, *, prefetch: int = 100) -> QueueConsumer:
        """A consumer of one queue, holding at most `prefetch` unacknowledged messages."""

    def reset(self) -> None:
        """Drop this thread's connection (after an error its state is unknown)."""
