"""Test-only fault injection. Never enable it in a deployment.

The worst moment for money is right after the provider has charged and before the
answer is committed: a crash there leaves the payment service not knowing about a
charge that happened. The end-to-end tests kill the payment worker at exactly that
moment, and to find it they set `PAYMENT_TEST_PAUSE_AFTER_CHARGE_SECONDS`: every
charge's answer is then held that long before it is recorded, after a log line that
names the charge's idempotency key. Unset or 0 (the default), nothing happens.
"""

import logging
import time

from django.conf import settings

logger = logging.getLogger(__name__)

#: The start of the line logged before a pause, which the tests wait for.
PAUSE_MESSAGE = "test-only fault injection: the provider answered the charge"


def pause_after_provider_answered(operation: str, idempotency_key: str) -> None:
    """Called after every provider answer (`operation` is "charge" or "refund");
    pauses after a charge's when the test-only setting asks for it."""
    seconds = getattr(settings, "PAYMENT_TEST_PAUSE_AFTER_CHARGE_SECONDS", 0)
    if operation != "charge" or seconds <= 0:
        return
    logger.warning("%s %s; pausing %.1f s before recording it", PAUSE_MESSAGE, idempotency_key, seconds)
    time.sleep(seconds)
