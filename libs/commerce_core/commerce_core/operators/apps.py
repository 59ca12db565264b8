from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class OperatorsConfig(AppConfig):
    default = True
    name = "commerce_core.operators"
    label = "operators"
    verbose_name = "Operators"
    default_auto_field = "django.db.models.BigAutoField"


class OperatorsAdminConfig(admin_apps.AdminConfig):
    """`django.contrib.admin` with the platform's site as `admin.site`: every
    `@admin.register` of every project lands on a site whose sign-in is the gateway's.
    Named in INSTALLED_APPS by its path; `OperatorsConfig` is this module's default."""

    default = False

    default_site = "commerce_core.operators.admin_site.OperatorsAdminSite"
