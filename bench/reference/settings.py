"""The read-path benchmark's reference: the smallest Django project that serves one
DRF view (no database, no middleware, no authentication, JSON only). Whatever a
service's read costs beyond this is the platform's own: its middleware, identity,
queries, serializers, filters and pagination."""

SECRET_KEY = "bench-reference-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
ROOT_URLCONF = "bench.reference.urls"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"]
MIDDLEWARE: list[str] = []
DATABASES: dict = {}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
}
