"""The broker under the bus, through Kombu: Redis by default, RabbitMQ when
`BROKER_URL` says `amqp://`.

What the bus asks of it is small: put an envelope into named durable queues, let a
worker consume one queue with acknowledgements, and say how deep a queue is.
Routing is the bus's own (routing.py): an event goes to each subscriber's queue
through the default exchange, addressed by the queue's name, so no broker-side
binding can be lost or stale.

- Redis: a queue is a list. A published message is LPUSHed into it; consuming
  moves it into Kombu's "unacked" hash until the worker acknowledges it, and an
  unacknowledged message goes back to its queue after `visibility_timeout`.
- RabbitMQ: queues are durable (quorum queues where the server has them), every
  publish is confirmed by the broker, and `mandatory` makes a message that no
  queue took come back as an error instead of vanishing.

A Redis that restarts without persistence loses what its queues held. The bus
notices (the epoch key below disappears) and the outbox sends again what was sent
shortly before (see outbox.py, `resend_since`).
"""

import secrets
import threading
from dataclasses import dataclass

from kombu import Connection, Consumer, Exchange, Producer, Queue

#: The default exchange: a message routed by the name of the queue it goes to.
DIRECT_TO_QUEUE = Exchange("")
#: A random value set when a Redis broker is first used; a Redis restarted empty
#: has none, which is how the bus learns that queued messages were lost.
EPOCH_KEY = "commerce:bus:epoch"
CONTENT_TYPE = "application/json"


class Unroutable(Exception):
    """The broker accepted no queue for a message (RabbitMQ returned it)."""


@dataclass(frozen=True)
class BrokerOptions:
    url: str
    #: Seconds before a message delivered but never acknowledged is delivered again (Redis).
    visibility_timeout: float = 300.0
    #: Seconds to wait for a connection before a publish fails (the outbox keeps the event).
    connect_timeout: float = 5.0
    #: Declare RabbitMQ queues as quorum queues (replicated; the server must be 3.8+).
    quorum_queues: bool = True

    @property
    def is_amqp(self) -> bool:
        return self.url.split("://", 1)[0] in {"amqp", "amqps", "pyamqp"}

    @property
    def is_redis(self) -> bool:
        return self.url.split("://", 1)[0] in {"redis", "rediss"}


class Broker:
    """Connections to the broker, one per thread (Kombu connections are not thread-safe)."""

    def __init__(self, options: BrokerOptions):
        self.options = options
        self._local = threading.local()

    # --- connections ---------------------------------------------------------------
    def connection(self) -> Connection:
        """A new connection (the caller closes it); for a consumer, which owns its own."""
        transport_options = {"visibility_timeout": self.options.visibility_timeout}
        if self.options.is_amqp:
            # Every publish waits for the broker's confirmation: a message the broker
            # did not take raises, and the outbox keeps it unsent.
            transport_options["confirm_publish"] = True
        return Connection(
            self.options.url,
            transport_options=transport_options,
            connect_timeout=self.options.connect_timeout,
            heartbeat=30 if self.options.is_amqp else 0,
        )

    def _thread_state(self):
        state = self._local
        if getattr(state, "connection", None) is None:
            state.connection = self.connection()
            state.producer = None
            state.declared = set()
            state.returned = []
        return state

    def reset(self) -> None:
        """Drop this thread's connection (after an error its state is unknown)."""
        state = self._local
        connection = getattr(state, "connection", None)
        state.connection = None
        if connection is not None:
            try:
                connection.release()
            except Exception:  # closing a broken connection may fail too; it is gone either way
                pass

    # --- queues --------------------------------------------------------------------
    def queue(self, name: str) -> Queue:
        arguments = {"x-queue-type": "quorum"} if self.options.is_amqp and self.options.quorum_queues else None
        return Queue(
            name, exchange=DIRECT_TO_QUEUE, routing_key=name, durable=True, auto_delete=False, queue_arguments=arguments
        )

    def declare(self, names: list[str]) -> None:
        """Create these durable queues if missing (on RabbitMQ; on Redis a queue is a list
        that exists once it holds a message, so there is nothing to create)."""
        state = self._thread_state()
        channel = state.connection.default_channel
        for name in names:
            self.queue(name)(channel).declare()
            state.declared.add(name)

    def depth(self, name: str) -> int:
        """How many messages wait in a queue (not counting those delivered and unacknowledged)."""
        state = self._thread_state()
        channel = state.connection.default_channel
        if self.options.is_redis:
            with channel.conn_or_acquire() as client:
                return int(client.llen(name))
        _, count, _ = self.queue(name)(channel).queue_declare(passive=True)
        return int(count)

    # --- publishing ----------------------------------------------------------------
    def publish(self, envelope: dict, queues: list[str]) -> None:
        """Put one envelope into each of `queues`. Raises if the broker did not take it."""
        state = self._thread_state()
        try:
            producer = state.producer
            if producer is None:
                on_return = None
                if self.options.is_amqp:

                    def on_return(exc, exchange, routing_key, message):
                        state.returned.append(routing_key)

                producer = state.producer = Producer(
                    state.connection.default_channel, exchange=DIRECT_TO_QUEUE, auto_declare=False, on_return=on_return
                )
            if self.options.is_amqp:
                missing = [name for name in queues if name not in state.declared]
                if missing:
                    self.declare(missing)
            for name in queues:
                producer.publish(
                    envelope,
                    routing_key=name,
                    serializer="json",
                    delivery_mode=2,
                    mandatory=self.options.is_amqp,
                    message_id=envelope["id"],
                    headers={"ce-type": envelope["type"]},
                )
            if state.returned:
                returned, state.returned = state.returned, []
                state.declared.difference_update(returned)
                raise Unroutable(f"no queue took event {envelope['id']} for {', '.join(returned)}")
        except Unroutable:
            raise
        except Exception:
            self.reset()
            raise

    # --- what a Redis broker remembers ------------------------------------------------
    def epoch(self) -> str | None:
        """The broker's epoch, creating it if missing; None for brokers that keep
        their queues on disk (RabbitMQ), where a restart loses nothing."""
        if not self.options.is_redis:
            return None
        state = self._thread_state()
        with state.connection.default_channel.conn_or_acquire() as client:
            client.set(EPOCH_KEY, secrets.token_hex(8), nx=True)
            value = client.get(EPOCH_KEY)
        return value.decode() if isinstance(value, bytes) else value

    # --- consuming -----------------------------------------------------------------
    def consumer(self, connection: Connection, queue: str, *, prefetch: int, on_message) -> Consumer:
        """A consumer of one queue on `connection`, acknowledging by hand.

        `on_message(message)` gets each Kombu message undecoded, so that a body that is
        not even JSON can still be parked as malformed instead of failing the consumer.
        """
        channel = connection.channel()
        bound = self.queue(queue)(channel)
        if self.options.is_amqp:
            bound.declare()
        consumer = Consumer(channel, queues=[bound], on_message=on_message, accept=["json"], no_ack=False)
        consumer.qos(prefetch_count=prefetch)
        return consumer


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
                _default = Broker(
                    BrokerOptions(
                        url=settings.BROKER_URL,
                        visibility_timeout=config["VISIBILITY_TIMEOUT_SECONDS"],
                        quorum_queues=config["QUORUM_QUEUES"],
                    )
                )
    return _default
