"""Review service settings: the shared defaults plus what is the review service's own."""

from pathlib import Path

from commerce_core.settings.base import *  # noqa: F403
from commerce_core.settings.base import INSTALLED_APPS, SPECTACULAR_SETTINGS, build_databases

SERVICE_NAME = "review"
BASE_DIR = Path(__file__).resolve().parent.parent
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
INSTALLED_APPS = [*INSTALLED_APPS, "commerce_core.customers", "reviews"]
DATABASES = build_databases(SERVICE_NAME)
SPECTACULAR_SETTINGS = {**SPECTACULAR_SETTINGS, "TITLE": "Review service"}
