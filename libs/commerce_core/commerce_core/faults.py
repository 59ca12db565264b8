"""Fault injection for the fault drills (`make drills`) and tests: named points in
the code where a failure can be made to happen on purpose, inert unless
`COMMERCE_FAULTS` names them. Never set it in production.

    COMMERCE_FAULTS="outbox.before_send=pause:30"
    COMMERCE_FAULTS="handler.fail=carts.handlers.update_price_in_carts@product/7; payment.after_charge=pause:60"

Each entry is `<point>=<action>`, entries separated by `;`:

- `pause:<seconds>`: sleep there (the drill kills the process meanwhile);
- `fail`: raise `InjectedFault` there;
- `<handler name>@<subject>` (for `handler.fail` only): raise in that handler, for
  events about that subject only, a poison message made to order.

A point costs one dict lookup when faults are off.
"""

import logging
import os
import time

logger = logging.getLogger(__name__)


class InjectedFault(RuntimeError):
    """A failure made to happen on purpose by COMMERCE_FAULTS."""


def _parse(spec: str) -> dict[str, str]:
    faults = {}
    for entry in spec.split(";"):
        name, _, action = entry.strip().partition("=")
        if name:
            faults[name.strip()] = action.strip()
    return faults


_FAULTS = _parse(os.environ.get("COMMERCE_FAULTS", ""))


def configure(spec: str) -> None:
    """Replace the faults in force (tests; processes read COMMERCE_FAULTS at start)."""
    global _FAULTS
    _FAULTS = _parse(spec)


def point(name: str) -> None:
    """A place where the fault `name`, if configured, happens."""
    action = _FAULTS.get(name)
    if action is None:
        return
    if action.startswith("pause:"):
        seconds = float(action.split(":", 1)[1])
        logger.warning("fault %s: pausing %.1fs", name, seconds)
        time.sleep(seconds)
    elif action == "fail":
        logger.warning("fault %s: failing", name)
        raise InjectedFault(name)


def handler_point(handler: str, subject: str | None) -> None:
    """The `handler.fail` point: fails one handler for one subject's events."""
    action = _FAULTS.get("handler.fail")
    if action is None:
        return
    target, _, target_subject = action.partition("@")
    if handler.endswith(target) and (not target_subject or target_subject == subject):
        raise InjectedFault(f"handler.fail {handler} @ {subject}")
