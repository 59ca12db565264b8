"""The event bus: domain events as CloudEvents envelopes, published through a
transactional outbox, delivered to every subscribed service over Kombu/Redis, and
handled once per event id (inbox) with bounded retries and a dead-letter store.

Publishing side:  `publish(SomeEvent(...))` inside the transaction that made the change.
Consuming side:   `@handles(SomeEvent)` on a function in an app's `handlers.py`.

See docs/event-bus.md for why it is built this way.
"""
