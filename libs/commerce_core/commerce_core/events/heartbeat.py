"""The worker's heartbeat: a short-lived Redis key per service holding the state of
its bus, written every second by the worker and read by the gateway's /health.

    commerce:worker-heartbeat:<service> = {"at": 1767225600.1, "problems": [...], ...}

The key expires `TTL_SECONDS` after the last beat, so a dead worker disappears by
itself. `problems` lists what makes the worker unhealthy though it runs (events
waiting unsent in the outbox for too long, a consumer that cannot record, the
broker's queues lost and not yet resent); the other fields are figures for an
operator.
"""

import json
from dataclasses import asdict, dataclass, field

TTL_SECONDS = 10


def heartbeat_key(service: str) -> str:
    return f"commerce:worker-heartbeat:{service}"


@dataclass
class WorkerStatus:
    at: float
    #: Outbox rows not yet sent, and for how long the oldest has waited.
    outbox_unsent: int = 0
    outbox_oldest_seconds: float = 0.0
    #: Handler runs waiting for a retry, and dead letters not replayed.
    retries_scheduled: int = 0
    dead_letters: int = 0
    #: Messages waiting in the service's queue (not yet taken by a consumer).
    queue_depth: int | None = None
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: bytes | str) -> "WorkerStatus":
        values = json.loads(raw)
        return cls(**{key: values[key] for key in cls.__dataclass_fields__ if key in values})
