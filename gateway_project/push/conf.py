"""The push settings: `settings.PUSH`, read when asked for (never at import time), so
that tests can change them with pytest-django's `settings` fixture."""

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class PushSettings:
    #: The Redis holding the history streams (the platform's Redis by default).
    redis_url: str
    #: Prefix of every Redis key push uses (tests give each test its own).
    key_prefix: str = "push:"
    #: Retention per stream: at least the last `history_events` events AND every event
    #: younger than `history_seconds`, but never more than `history_max_events`.
    history_events: int = 1000
    history_seconds: int = 600
    history_max_events: int = 100_000
    #: A stream that got no event for this long expires, epoch and all.
    history_idle_seconds: int = 24 * 3600
    #: How long an event id is remembered so that a redelivered event is recorded once.
    dedupe_seconds: int = 3600
    #: Bytes of frames queued for one socket (beyond what its TCP buffers hold) before
    #: it is closed with 4408.
    send_backlog_bytes: int = 1024 * 1024
    #: Events read from history per round trip while replaying.
    replay_batch: int = 500
    #: How long a deactivated user's access tokens are refused (≥ their lifetime).
    deactivated_seconds: int = 16 * 60


def push_settings() -> PushSettings:
    configured = dict(getattr(settings, "PUSH", {}))
    redis_url = configured.pop("REDIS_URL", None) or settings.REDIS_URL
    return PushSettings(redis_url=redis_url, **{key.lower(): value for key, value in configured.items()})
