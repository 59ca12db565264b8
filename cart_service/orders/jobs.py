"""Periodic jobs of the cart worker."""

import logging

from commerce_core.events.periodic import every

from . import services

logger = logging.getLogger(__name__)


# Sweeping often keeps a timed-out order's cancellation close to its deadline; the
# query is one indexed scan of pending orders, cheap even when there is nothing to do.
@every(seconds=2)
def cancel_timed_out_orders() -> None:
    cancelled = services.orders_cancel_timed_out()
    if cancelled:
        logger.info("cancelled %d order(s) pending past the timeout: %s", len(cancelled), cancelled)
