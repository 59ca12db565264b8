"""The event bus: domain events as CloudEvents envelopes, published through a
transactional outbox, put by the bus's routing table into every subscribed
service's durable queue (Kombu over Redis, or RabbitMQ), and handled once per event
id (inbox) with retries stored in the service's database and a dead-letter store.

Publishing side:  `publish(SomeEvent(...))` inside the transaction that made the change.
Consuming side:   `@handles(SomeEvent)` on a function in an app's `handlers.py`, and
                  the service listed for that event in `routing.py`.

Layers, bottom to top (each imports only from those below it; a test keeps it so):

    contracts/, envelope      what an event is
    registry, periodic        what this process does with events, and on a clock
    routing, heartbeat        who receives what; how a worker reports its state
    broker                    Kombu: queues, publishing, consuming
    models                    outbox, inbox, scheduled retries, dead letters
    outbox, delivery          publishing; consuming with its guarantees
    worker                    the consumer and housekeeping threads, as a Celery bootstep
    celery_app                the worker's Celery app (imported by projects only)

See docs/event-bus.md for why it is built this way.
"""
