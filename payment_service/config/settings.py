"""Payment service settings: the shared defaults plus what is the payment service's own."""

from pathlib import Path

from commerce_core.settings.base import *  # noqa: F403
from commerce_core.settings.base import INSTALLED_APPS, SPECTACULAR_SETTINGS, build_databases
from commerce_core.settings.env import env

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
