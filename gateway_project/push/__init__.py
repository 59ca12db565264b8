"""WebSocket push: domain events delivered to the clients entitled to them.

The event worker receives every non-internal event (handlers.py) and hands it to
the fan-out (fanout.py), which sends it to channel-layer groups; each socket's
consumer (consumers.py) sits in the groups of its subscriptions and speaks the
protocol of CONTRACT.md.
"""
