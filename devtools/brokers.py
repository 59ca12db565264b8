"""The event broker as the tooling sees it (never the services: they use
commerce_core.events.broker)."""

from kombu import Connection

from commerce_core.events.routing import all_queues, default_subscriptions


def empty_event_queues(broker_url: str) -> None:
    """Delete every service's event queue on a RabbitMQ broker: what a test or drill
    run that owns the broker does first, as it empties its Redis database."""
    with Connection(broker_url, connect_timeout=10) as connection:
        channel = connection.channel()
        for name in all_queues(default_subscriptions()):
            channel.queue_delete(name)
