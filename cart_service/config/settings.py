"""Cart service settings: the shared defaults plus what is the cart's own."""

from pathlib import Path

from commerce_core.settings.base import *  # noqa: F403
from commerce_core.settings.base import INSTALLED_APPS, SPECTACULAR_SETTINGS, build_databases
from commerce_core.settings.env import env

SERVICE_NAME = "cart"
BASE_DIR = Path(__file__).resolve().parent.parent
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
INSTALLED_APPS = [*INSTALLED_APPS, "commerce_core.customers", "carts", "orders"]
DATABASES = build_databases(SERVICE_NAME)
SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,
    "TITLE": "Cart service",
    "ENUM_NAME_OVERRIDES": {"OrderStatusEnum": "orders.models.OrderStatus"},
}

# --- checkout ---------------------------------------------------------------------
#: An order neither paid nor refused this long after checkout is cancelled by the
#: worker's timeout job (orders/jobs.py), which releases its stock and refunds a late charge.
ORDER_TIMEOUT_SECONDS = env.int("ORDER_TIMEOUT_SECONDS", default=120)
