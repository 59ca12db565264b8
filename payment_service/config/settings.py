"""Payment service settings: the shared defaults plus what is the payment service's own."""

from pathlib import Path

from commerce_core.settings.base import *  # noqa: F403
from commerce_core.settings.base import INSTALLED_APPS, SPECTACULAR_SETTINGS, build_databases
from commerce_core.settings.env import LOCAL_STATE_DIR, env

SERVICE_NAME = "payment"
BASE_DIR = Path(__file__).resolve().parent.parent
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
INSTALLED_APPS = [*INSTALLED_APPS, "payments"]
DATABASES = build_databases(SERVICE_NAME)
SPECTACULAR_SETTINGS = {**SPECTACULAR_SETTINGS, "TITLE": "Payment service"}

# --- payments -----------------------------------------------------------------------
# Who moves the money: a dotted path to a payments.providers.PaymentProvider. The
# default simulates one with Stripe's test tokens; a real provider's adapter replaces it.
PAYMENT_PROVIDER = env.str("PAYMENT_PROVIDER", default="payments.providers.SimulatedProvider")
#: The simulated provider's own ledger (an SQLite file outside the service's database).
#: The web process (admin refunds) and the worker must share it.
SIMULATED_PROVIDER_LEDGER = env.str(
    "SIMULATED_PROVIDER_LEDGER", default=str(LOCAL_STATE_DIR / "simulated-payment-provider.sqlite3")
)
#: A provider call still unanswered this long after it started is taken for one left by a
#: crash, and the worker asks the provider again with the same idempotency key. Keep it
#: above the provider adapter's own timeout and well below ORDER_TIMEOUT_SECONDS.
PAYMENT_RESOLVE_AFTER_SECONDS = env.float("PAYMENT_RESOLVE_AFTER_SECONDS", default=10.0)
