"""Periodic jobs of the payment worker."""

import logging

from commerce_core.events.periodic import every

from . import services

logger = logging.getLogger(__name__)


# One indexed scan of the payments in flight, cheap when there is none; a call left
# by a crash is settled within a sweep of PAYMENT_RESOLVE_AFTER_SECONDS.
@every(seconds=2)
def resolve_payments_left_in_flight() -> None:
    settled = services.payments_resolve_in_flight()
    if settled:
        logger.info("settled %d payment(s) left in flight: %s", len(settled), settled)
