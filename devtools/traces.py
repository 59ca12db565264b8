"""Read the spans every process appended to one JSON-lines file (`TRACE_SPANS_FILE`,
commerce_core/observability/span_file.py) and show one trace as a tree.

    python -m devtools.traces spans.jsonl            # the newest trace
    python -m devtools.traces spans.jsonl <trace id> # that one

    POST /api/cart/*  [gateway] 41.2 ms
    └─ POST api/cart/checkout/  [cart] 35.0 ms
       └─ publish order.placed  [cart] 1.1 ms
          ├─ process order.placed  [catalog-worker] 6.3 ms
          ...
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path


def read_spans(path: str | Path) -> list[dict]:
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return []
    spans = []
    for line in text.splitlines():
        try:
            spans.append(json.loads(line))
        except json.JSONDecodeError:  # a line being written right now
            continue
    return spans


def spans_of_trace(spans: list[dict], trace_id: str) -> list[dict]:
    return [span for span in spans if span["trace_id"] == trace_id]


def render(trace: list[dict], *, skip=lambda span: False) -> str:
    """One line per span, children under their parent in start order; spans `skip`
    selects are left out, their children shown under the nearest kept ancestor."""
    by_id = {span["span_id"]: span for span in trace}
    children = defaultdict(list)
    roots = []
    for span in trace:
        if skip(span):
            continue
        parent = span["parent_span_id"]
        while parent in by_id and skip(by_id[parent]):
            parent = by_id[parent]["parent_span_id"]
        if parent in by_id:
            children[parent].append(span)
        else:
            roots.append(span)
    lines: list[str] = []

    def walk(span: dict, prefix: str, last: bool, root: bool) -> None:
        duration = (span["end"] - span["start"]) / 1e6
        label = f"{span['name']}  [{span['service']}] {duration:.1f} ms"
        lines.append(label if root else f"{prefix}{'└─ ' if last else '├─ '}{label}")
        below = sorted(children[span["span_id"]], key=lambda s: s["start"])
        inner = "" if root else prefix + ("   " if last else "│  ")
        for index, child in enumerate(below):
            walk(child, inner, index == len(below) - 1, False)

    for root in sorted(roots, key=lambda s: s["start"]):
        walk(root, "", True, True)
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    spans = read_spans(argv[0])
    if not spans:
        print(f"no spans in {argv[0]}")
        return 1
    trace_id = argv[1] if len(argv) > 1 else max(spans, key=lambda s: s["start"])["trace_id"]
    print(render(spans_of_trace(spans, trace_id)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
