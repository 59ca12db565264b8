"""Push's Prometheus series, in each gateway web process (served on its internal
metrics port, proxy/telemetry.py; the series are listed in
commerce_core/observability/metrics.py):

- `commerce_push_sockets{front_end}`: sockets connected to this process now;
- `commerce_push_frames_sent_total{event}`: event frames handed to sockets;
- `commerce_push_frames_dropped_total{event}`: event frames a socket did not take
  (closing, or closed for not reading: 4408).

Counted once per event and process, not per socket: the fan-out loop stays as it was.
"""

from prometheus_client import Counter, Gauge

from commerce_core.observability.metrics import PREFIX

from .frames import SOCKETIO, WEBSOCKET

SOCKETS = Gauge(PREFIX + "push_sockets", "Sockets connected to this gateway process.", ["front_end"])
FRAMES_SENT = Counter(PREFIX + "push_frames_sent_total", "Event frames handed to sockets.", ["event"])
FRAMES_DROPPED = Counter(PREFIX + "push_frames_dropped_total", "Event frames sockets did not take.", ["event"])

_front_ends = {WEBSOCKET: SOCKETS.labels("websocket"), SOCKETIO: SOCKETS.labels("socketio")}
_by_event: dict[str, tuple] = {}


def socket_connected(kind: int) -> None:
    _front_ends[kind].inc()


def socket_gone(kind: int) -> None:
    _front_ends[kind].dec()


def pushed(event_type: str, *, sent: int, dropped: int) -> None:
    children = _by_event.get(event_type)
    if children is None:
        children = _by_event[event_type] = (FRAMES_SENT.labels(event_type), FRAMES_DROPPED.labels(event_type))
    if sent:
        children[0].inc(sent)
    if dropped:
        children[1].inc(dropped)
