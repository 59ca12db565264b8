"""Test-only fault injection. Never enable it in a deployment.

The worst moment for money is right after the provider has answered and before the
answer is committed: the provider has charged, and a crash there leaves the payment
service not knowing it. The end-to-end tests kill the payment worker at exactly
that moment, and to find it they set `PAYMENT_TEST_PAUSE_AFTER_PROVIDER_SECONDS`:
every provider answer is then held that long before it is recorded, after a log
line that names the call. Unset or 0 (the default), nothing happens.
"""

import logging
import time

from django.conf import settings

logger = logging.getLogger(__name__)

#: The start of the line logged before a pause, which the tests wait for.
PAUSE_MESSAGE = "test-only fault injection: the provider answered"


def pause_after_provider_answered(operation: str, idempotency_key: str) -> None:
    seconds = getattr(settings, "PAYMENT_TEST_PAUSE_AFTER_PROVIDER_SECONDS", 0)
    if seconds <= 0:
        return
    logger.warning("%s %s %s; pausing %.1f s before recording it", PAUSE_MESSAGE, operation, idempotency_key, seconds)
    time.sleep(seconds)
