"""RabbitMQ as the bus's broker, through Kombu's amqp transport.

Queues are durable (quorum queues by default), addressed through the default
exchange by name. Every publish waits for the broker's confirmation and is
`mandatory`: a message no queue took comes back as `Unroutable`, and its outbox
row stays unsent. A consumer's unacknowledged messages go back to the queue as
soon as its connection closes, crash or not. Kombu connections are not
thread-safe, so publishers keep one per thread.
"""

from __future__ import annotations

import threading

from kombu import Connection, Consumer, Exchange, Producer, Queue

from .broker_base import BrokerOptions, Delivery, Sent, Unroutable

#: The default exchange: a message routed by the name of the queue it goes to.
DIRECT_TO_QUEUE = Exchange("")


class AmqpBroker:
    def __init__(self, options: BrokerOptions):
        self.options = options
        self._local = threading.local()

    def connection(self) -> Connection:
        return Connection(
            self.options.url,
            transport_options={"confirm_publish": True},
            connect_timeout=self.options.connect_timeout,
            heartbeat=30,
        )

    def queue(self, name: str) -> Queue:
        arguments = {"x-queue-type": "quorum"} if self.options.quorum_queues else None
        return Queue(
            name, exchange=DIRECT_TO_QUEUE, routing_key=name, durable=True, auto_delete=False, queue_arguments=arguments
        )

    def _thread_state(self):
        state = self._local
        if getattr(state, "connection", None) is None:
            state.connection = self.connection()
            state.returned = []
            state.declared = set()

            def on_return(exc, exchange, routing_key, message):
                state.returned.append(routing_key)

            state.producer = Producer(
                state.connection.default_channel, exchange=DIRECT_TO_QUEUE, auto_declare=False, on_return=on_return
            )
        return state

    def reset(self) -> None:
        state = self._local
        connection = getattr(state, "connection", None)
        state.connection = None
        if connection is not None:
            try:
                connection.release()
            except Exception:  # closing a broken connection may fail too; it is gone either way
                pass

    # --- publishing ----------------------------------------------------------------
    def publish(self, envelope: dict, queues: list[str]) -> None:
        state = self._thread_state()
        try:
            missing = [name for name in queues if name not in state.declared]
            if missing:
                self.declare(missing)
            for name in queues:
                state.producer.publish(
                    envelope,
                    routing_key=name,
                    serializer="json",
                    delivery_mode=2,
                    mandatory=True,
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

    def publish_many(self, items: list[tuple[dict, list[str]]]) -> Sent:
        errors: list[BaseException | None] = []
        for envelope, queues in items:
            try:
                self.publish(envelope, queues)
            except Exception as exc:
                errors.append(exc)
            else:
                errors.append(None)
        return Sent(errors)

    # --- queues ------------------------------------------------------------------------
    def declare(self, names: list[str]) -> None:
        state = self._thread_state()
        channel = state.connection.default_channel
        for name in names:
            self.queue(name)(channel).declare()
            state.declared.add(name)

    def depth(self, name: str) -> int:
        """Messages ready in the queue. Unlike Redis's, this leaves out those delivered to
        a consumer and not yet acknowledged: AMQP's passive declare does not count them
        (RabbitMQ's management API does)."""
        state = self._thread_state()
        try:
            _, count, _ = self.queue(name)(state.connection.default_channel).queue_declare(passive=True)
        except Exception:
            self.reset()
            raise
        return int(count)

    def epoch(self, *, create: bool = True) -> str | None:
        """RabbitMQ keeps its queues on disk: a restart loses nothing, no epoch needed."""
        return None

    def consumer(self, queue: str, *, prefetch: int = 100) -> KombuConsumer:
        return KombuConsumer(self, queue, prefetch=prefetch)


class KombuConsumer:
    def __init__(self, broker: AmqpBroker, queue: str, *, prefetch: int):
        self.connection = broker.connection()
        self.connection.ensure_connection(max_retries=1)
        channel = self.connection.channel()
        bound = broker.queue(queue)(channel)
        bound.declare()
        self._received: list = []
        self._consumer = Consumer(
            channel, queues=[bound], on_message=self._received.append, accept=["json"], no_ack=False
        )
        # Before consuming: a consumer without a prefetch bound is sent the whole queue.
        self._consumer.qos(prefetch_count=prefetch)
        self._consumer.consume()

    def fetch(self, *, wait: float, limit: int, gap: float = 0.002, ack: list[Delivery] = ()) -> list[Delivery]:
        self.ack(ack)  # an acknowledgement has no reply to wait for: nothing to save
        try:
            self.connection.drain_events(timeout=wait)
        except TimeoutError:  # messages may have arrived all the same
            self.connection.heartbeat_check()
        else:
            while len(self._received) < limit:
                try:
                    self.connection.drain_events(timeout=gap)
                except TimeoutError:
                    break
        messages = list(self._received)
        self._received.clear()
        return [Delivery(body=_body_of(message), token=message) for message in messages]

    def ack(self, deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            delivery.token.ack()

    def reclaim(self) -> list[Delivery]:
        """Nothing to take over: RabbitMQ requeues a lost consumer's messages itself."""
        return []

    def keep_alive(self) -> None:
        self.connection.heartbeat_check()

    def close(self) -> None:
        # Closing the channel without cancelling the consumer first: every message
        # delivered and unacknowledged goes back to the queue.
        try:
            self.connection.release()
        except Exception:  # closing a broken connection may fail; it is gone either way
            pass


def _body_of(message):
    try:
        return message.decode()
    except Exception:  # not JSON, or not even text: parked as malformed with what arrived
        raw = message.body
        return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
