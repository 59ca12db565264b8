"""Spans as JSON lines in one file that every process appends to: how the end-to-end
tests see one trace across the platform's processes (`TRACE_SPANS_FILE`, set by the
test platform; tracing.py). Not meant for production: use OTLP there.

Each line is one finished span:

    {"trace_id": "<32 hex>", "span_id": "<16 hex>", "parent_span_id": "<16 hex>" | null,
     "name": "process order.placed", "kind": "CONSUMER", "service": "catalog-worker",
     "start": <ns since the epoch>, "end": <ns>, "status": "UNSET" | "OK" | "ERROR",
     "attributes": {...}}

The file is opened in append mode and each line is written with one `write` call,
so lines of several processes never interleave.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult


def span_record(span: ReadableSpan) -> dict:
    context = span.get_span_context()
    return {
        "trace_id": f"{context.trace_id:032x}",
        "span_id": f"{context.span_id:016x}",
        "parent_span_id": f"{span.parent.span_id:016x}" if span.parent is not None else None,
        "name": span.name,
        "kind": span.kind.name,
        "service": span.resource.attributes.get("service.name", ""),
        "start": span.start_time,
        "end": span.end_time,
        "status": span.status.status_code.name,
        "attributes": dict(span.attributes or {}),
    }


class JsonLinesSpanExporter(SpanExporter):
    def __init__(self, path: str | os.PathLike):
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = [json.dumps(span_record(span), default=str, separators=(",", ":")) + "\n" for span in spans]
        with self._lock:
            if self._fd < 0:
                return SpanExportResult.FAILURE
            for line in lines:
                os.write(self._fd, line.encode())
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
