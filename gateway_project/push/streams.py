"""Where push keeps its data in Redis, and the offsets clients hold.

Keys (all under the configured prefix, `push:` by default):

- `h:<event>`: the history stream of a public event; also what every gateway
  process reads to fan it out live.
- `u:<user id>:<event>`: the history stream of one user's private event.
- `feed`: every private event once more, tagged with its user; what every gateway
  process reads to fan private events out live (per-user streams are too many to
  read).
- `<stream>:epoch`: a random value set (NX) when the stream is first written;
  `<stream>:trimmed`: the id of the newest entry trimming has removed.
- `seen:<event id>`: where an event was recorded, so a redelivery records nothing.
- `inactive:<user id>`: set while a deactivated user's tokens are refused.

An offset is `<epoch>:<entry id>`, e.g. `3f9a1c0e7b2d:1718000000000-0`. Clients treat
it as opaque. The epoch makes an offset from a stream that was lost (Redis
restarted empty, or the stream expired) fail to match, so recovery answers
`false` instead of silently skipping the gap.
"""

from __future__ import annotations

from dataclasses import dataclass

EntryId = tuple[int, int]


@dataclass(frozen=True)
class Keys:
    prefix: str = "push:"

    def public(self, event_type: str) -> str:
        return f"{self.prefix}h:{event_type}"

    def private(self, user_id: int, event_type: str) -> str:
        return f"{self.prefix}u:{user_id}:{event_type}"

    @property
    def feed(self) -> str:
        return f"{self.prefix}feed"

    @staticmethod
    def epoch(stream: str) -> str:
        return f"{stream}:epoch"

    @staticmethod
    def trimmed(stream: str) -> str:
        return f"{stream}:trimmed"

    def seen(self, event_id: str) -> str:
        return f"{self.prefix}seen:{event_id}"

    def inactive(self, user_id: int) -> str:
        return f"{self.prefix}inactive:{user_id}"


def parse_entry_id(entry_id: str) -> EntryId:
    milliseconds, _, sequence = entry_id.partition("-")
    return int(milliseconds), int(sequence or 0)


def make_offset(epoch: str, entry_id: str) -> str:
    return f"{epoch}:{entry_id}"


@dataclass(frozen=True)
class Offset:
    epoch: str
    entry_id: str

    @property
    def position(self) -> EntryId:
        return parse_entry_id(self.entry_id)

    @classmethod
    def parse(cls, text: object) -> Offset | None:
        """The offset a client sent, or None when it is not one of ours."""
        if not isinstance(text, str) or len(text) > 100:
            return None
        epoch, _, entry_id = text.partition(":")
        if not epoch or not entry_id:
            return None
        try:
            milliseconds, sequence = parse_entry_id(entry_id)
        except ValueError:
            return None
        if milliseconds < 0 or sequence < 0:
            return None
        return cls(epoch, f"{milliseconds}-{sequence}")
