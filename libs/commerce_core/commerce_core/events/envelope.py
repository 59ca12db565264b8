"""The CloudEvents 1.0 envelope every domain event travels in.

    {"specversion": "1.0", "id": "<uuid>", "source": "/catalog", "type": "catalog.product.created",
     "time": "2026-01-01T00:00:00.000000+00:00", "datacontenttype": "application/json",
     "dataschema": "urn:commerce:event:catalog.product.created:v1", "subject": "product/7",
     "correlationid": "<request id>", "data": {...}}

`subject` is what the event is about (`order/42`); `correlationid` (and `traceparent`
when present) are CloudEvents extension attributes.
"""

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import ValidationError

from .contracts import EventContract, UnknownEventType, contract_for

SPEC_VERSION = "1.0"


class MalformedEvent(ValueError):
    """A message on the bus that is not a valid envelope of a known, well-formed event."""


def dataschema_for(event_type: str, version: int) -> str:
    return f"urn:commerce:event:{event_type}:v{version}"


@dataclass(frozen=True)
class Envelope:
    id: str
    source: str
    type: str
    time: str
    data: dict
    dataschema: str
    subject: str | None = None
    correlationid: str | None = None
    traceparent: str | None = None
    specversion: str = SPEC_VERSION
    datacontenttype: str = "application/json"
    _contract: EventContract | None = field(default=None, compare=False, repr=False)

    @classmethod
    def wrap(
        cls, event: EventContract, *, source: str, correlation_id: str | None = None, traceparent: str | None = None
    ) -> "Envelope":
        return cls(
            id=str(uuid.uuid4()),
            source=f"/{source}",
            type=event.event_type,
            time=datetime.now(UTC).isoformat(),
            data=json.loads(event.model_dump_json()),
            dataschema=dataschema_for(event.event_type, event.version),
            subject=event.subject(),
            correlationid=correlation_id,
            traceparent=traceparent,
            _contract=event,
        )

    def to_dict(self) -> dict:
        body = {
            "specversion": self.specversion,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": self.time,
            "datacontenttype": self.datacontenttype,
            "dataschema": self.dataschema,
            "data": self.data,
        }
        if self.subject:
            body["subject"] = self.subject
        if self.correlationid:
            body["correlationid"] = self.correlationid
        if self.traceparent:
            body["traceparent"] = self.traceparent
        return body

    @classmethod
    def from_dict(cls, body) -> "Envelope":
        """Parse and validate a received envelope; raises MalformedEvent."""
        if not isinstance(body, dict):
            raise MalformedEvent("envelope is not a JSON object")
        missing = [
            k for k in ("specversion", "id", "source", "type", "time", "data") if not body.get(k) and body.get(k) != {}
        ]
        if missing:
            raise MalformedEvent(f"envelope lacks {', '.join(missing)}")
        if body["specversion"] != SPEC_VERSION:
            raise MalformedEvent(f"unsupported specversion {body['specversion']!r}")
        try:
            contract = contract_for(body["type"])
        except UnknownEventType:
            raise MalformedEvent(f"unknown event type {body['type']!r}") from None
        try:
            event = contract.model_validate(body["data"])
        except ValidationError as exc:
            raise MalformedEvent(f"invalid {body['type']} payload: {exc.errors(include_url=False)}") from None
        return cls(
            id=str(body["id"]),
            source=str(body["source"]),
            type=body["type"],
            time=str(body["time"]),
            data=body["data"],
            dataschema=body.get("dataschema") or dataschema_for(contract.event_type, contract.version),
            subject=body.get("subject"),
            correlationid=body.get("correlationid"),
            traceparent=body.get("traceparent"),
            _contract=event,
        )

    @property
    def event(self) -> EventContract:
        """The typed payload."""
        if self._contract is None:
            return contract_for(self.type).model_validate(self.data)
        return self._contract
