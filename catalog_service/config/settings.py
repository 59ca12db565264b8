"""Catalog service settings: the shared defaults plus what is the catalog's own."""

from pathlib import Path

from commerce_core.settings.base import *  # noqa: F403
from commerce_core.settings.base import INSTALLED_APPS, SPECTACULAR_SETTINGS, build_databases

SERVICE_NAME = "catalog"
BASE_DIR = Path(__file__).resolve().parent.parent
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
INSTALLED_APPS = [*INSTALLED_APPS, "catalog", "inventory"]
DATABASES = build_databases(SERVICE_NAME)
SPECTACULAR_SETTINGS = {**SPECTACULAR_SETTINGS, "TITLE": "Catalog service"}
