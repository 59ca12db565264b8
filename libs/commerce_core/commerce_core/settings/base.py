"""Settings every project starts from; each project's `config/settings.py` is a delta.

Grouped by concern. Values that differ per deployment come from `env`.
"""

import socket
from datetime import timedelta
from urllib.parse import urlsplit

from commerce_core.web.converters import PATH_CONVERTER_SCHEMAS

from .env import DEV_ADMIN_PASSWORD, DEV_GATEWAY_SECRET, DEV_JWT_SECRET, DEV_SECRET_KEY, database_url, env, redis_url
from .topology import PROJECTS

# --- core -------------------------------------------------------------------------
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=DEV_SECRET_KEY)
DEBUG = env.bool("DJANGO_DEBUG", default=False)
#: Accept the development defaults (secrets, admin password, local hosts) with DEBUG
#: off; `make run` sets it. Without it (or DEBUG), a process refuses to start on
#: them (settings/production.py).
DEVELOPMENT_MODE = env.bool("DEVELOPMENT_MODE", default=False)
#: The public host names, as the operator gave them (checked by settings/production.py).
CONFIGURED_ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
# Plus every project's own internal address (the gateway's health checks and schema
# fetches name the service they call, e.g. `auth-web` under compose), and in
# development the local names.
ALLOWED_HOSTS = list(
    dict.fromkeys(
        [
            *CONFIGURED_ALLOWED_HOSTS,
            *(urlsplit(project.url).hostname for project in PROJECTS),
            *(["localhost", "127.0.0.1", "[::1]"] if DEVELOPMENT_MODE or DEBUG else []),
        ]
    )
)
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "static/"
#: A request that waited longer than this for a thread (since the gateway sent it)
#: is answered 503 without being started: keep it well under GATEWAY_UPSTREAM_TIMEOUT
#: (web/load_shedding.py).
REQUEST_QUEUE_BUDGET_SECONDS = env.float("REQUEST_QUEUE_BUDGET", default=3.0)
# The gateway caps bodies too; this is the service's own line of defence.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_BODY_BYTES", default=1024 * 1024)

INSTALLED_APPS = [
    # Before the admin: its admin/base_site.html (the gateway's sign-out on every page)
    # overrides Django's.
    "commerce_core.operators",
    # django.contrib.admin, with the site whose sign-in is the gateway's.
    "commerce_core.operators.apps.OperatorsAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "commerce_core.web",
    "commerce_core.events",
    "commerce_core.ops",
    "commerce_core.observability",
]

# Sessions, the Django user and messages serve the admin's pages only; the JSON API
# under /api/ skips them (commerce_core.web.middleware says why).
MIDDLEWARE = [
    # First: it counts and times every request, shed ones included (observability/).
    "commerce_core.observability.middleware.HttpMetricsMiddleware",
    "commerce_core.web.request_id.RequestIdMiddleware",
    "commerce_core.web.load_shedding.LoadSheddingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "commerce_core.web.secure_cookies.secure_cookies_over_tls",
    # The admin needs a session and an authenticated user; a service keeps no session
    # and takes the user from the gateway's signed header (commerce_core.operators).
    # These three pass an API request (`/api/...`) straight on (web/middleware.py).
    "commerce_core.operators.middleware.NoSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "commerce_core.operators.middleware.GatewayOperatorMiddleware",
    "commerce_core.web.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


# --- database ---------------------------------------------------------------------
def build_databases(service: str) -> dict:
    """One database per service: SQLite by default, PostgreSQL when its URL says so."""
    config = env.db_url_config(database_url(service))
    # Reusing connections saves a connect (and SQLite's pragmas) on every request.
    config["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    config["CONN_HEALTH_CHECKS"] = True
    if config["ENGINE"] == "django.db.backends.postgresql":
        # Django's, with the health check of a reused connection at most once a second.
        config["ENGINE"] = "commerce_core.databases.postgresql"
        # Parameters sent apart from the statement (server-side binding) let psycopg
        # prepare a statement the second time a connection runs it; PostgreSQL then
        # skips parsing and planning it. The bus and the checkout run the same few
        # dozen statements for every order: this cut the servers' CPU per paid order
        # by a quarter (23.4 to 17.5 ms). Django's default binds parameters into the
        # text on the client, so no two statements were alike. Behind a pooler that
        # cannot keep prepared statements in transaction mode (PgBouncer before 1.21),
        # set DATABASE_PREPARE_THRESHOLD=-1: never prepare.
        threshold = env.int("DATABASE_PREPARE_THRESHOLD", default=2)
        config.setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=threshold if threshold >= 0 else None
        )
    if config["ENGINE"].endswith("sqlite3"):
        # Web and worker processes share the file: WAL lets readers run beside the
        # writer, IMMEDIATE takes the write lock up front instead of failing late.
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    return {"default": config}


# --- REST API ---------------------------------------------------------------------
# Parsing, filters, pagination and the schema are the shared ones of commerce_core.web,
# which bound every input to what the database stores and answer bad input with a
# 400 in the one error shape (see that package's modules).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "commerce_core.identity.authentication.GatewayIdentityAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["commerce_core.web.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "commerce_core.web.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "commerce_core.web.filters.DjangoFilterBackend",
        "commerce_core.web.filters.SearchFilter",
        "commerce_core.web.filters.OrderingFilter",
    ],
    "EXCEPTION_HANDLER": "commerce_core.web.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "commerce_core.web.openapi.AutoSchema",
}

SPECTACULAR_SETTINGS = {
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # `<id:pk>` in a URL is an integer from 1 to 2**63-1, and the document says so.
    "PATH_CONVERTER_OVERRIDES": PATH_CONVERTER_SCHEMAS,
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        }
    },
}

# --- identity ---------------------------------------------------------------------
#: Access tokens are HS256 JWTs minted by the auth service and verified by the gateway.
JWT_SECRET = env.str("JWT_SECRET", default=DEV_JWT_SECRET)
JWT_ALGORITHM = "HS256"
ACCESS_TOKEN_LIFETIME = timedelta(minutes=env.int("ACCESS_TOKEN_MINUTES", default=15))
REFRESH_TOKEN_LIFETIME = timedelta(days=env.int("REFRESH_TOKEN_DAYS", default=7))
#: Key the gateway signs forwarded identities with; only the gateway and services know it.
GATEWAY_IDENTITY_SECRET = env.str("GATEWAY_IDENTITY_SECRET", default=DEV_GATEWAY_SECRET)
GATEWAY_IDENTITY_MAX_AGE_SECONDS = 30
#: Argon2id first; PBKDF2 hashes of before are upgraded at the next login (identity/passwords.py).
#: Django's own Argon2PasswordHasher is not listed: it has the same algorithm name,
#: and Django verifies a stored hash with the last hasher of that name, so it would
#: take every verification from the platform's. The platform's reads any Argon2 hash.
PASSWORD_HASHERS = [
    "commerce_core.identity.passwords.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
#: The admin's users: the staff members the gateway vouches for (commerce_core.operators);
#: nobody signs in with a password outside the auth service's token endpoint.
AUTHENTICATION_BACKENDS = ["commerce_core.operators.backends.OperatorBackend"]
#: The staff superuser `manage.py ensure_admin` creates once in every project.
ADMIN_USERNAME = env.str("ADMIN_USERNAME", default="admin")
ADMIN_PASSWORD = env.str("ADMIN_PASSWORD", default=DEV_ADMIN_PASSWORD)
ADMIN_EMAIL = env.str("ADMIN_EMAIL", default=f"{ADMIN_USERNAME}@example.com")

# --- event bus --------------------------------------------------------------------
REDIS_URL = redis_url()
#: The broker of domain events: Redis (default: REDIS_URL) or RabbitMQ (`amqp://...`).
#: Redis stays in use for push, the channel layer and worker heartbeats either way.
BROKER_URL = env.str("BROKER_URL", default=REDIS_URL)
# Celery only hosts the event worker (commerce_core.events.celery_app).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
COMMERCE_EVENTS = {
    # A failing handler is run again after a backoff with jitter (doubling from
    # RETRY_BACKOFF_SECONDS up to RETRY_BACKOFF_MAX_SECONDS), MAX_RETRIES times, then
    # parked in the dead-letter store: by default about ten minutes of retries.
    "MAX_RETRIES": env.int("EVENT_MAX_RETRIES", default=9),
    "RETRY_BACKOFF_SECONDS": env.float("EVENT_RETRY_BACKOFF", default=2.0),
    "RETRY_BACKOFF_MAX_SECONDS": env.float("EVENT_RETRY_BACKOFF_MAX", default=300.0),
    # A message a worker took and did not acknowledge this long is taken over by
    # another worker (Redis; RabbitMQ hands it over as soon as the worker is gone).
    "VISIBILITY_TIMEOUT_SECONDS": env.float("EVENT_VISIBILITY_TIMEOUT", default=300.0),
    # The worker's name among its queue's consumers (Redis): a worker restarted under
    # the same name takes back at once what it had not acknowledged. One per host by
    # default; set it per process when several workers of a service share a host.
    "CONSUMER_NAME": env.str("EVENT_CONSUMER_NAME", default=socket.gethostname()),
    # RabbitMQ: declare queues as quorum queues (replicated, durable).
    "QUORUM_QUEUES": env.bool("EVENT_QUORUM_QUEUES", default=True),
    # The consumer records up to BATCH_SIZE deliveries in one transaction, taking
    # messages that follow each other within BATCH_GAP_SECONDS.
    "BATCH_SIZE": env.int("EVENT_BATCH_SIZE", default=100),
    "BATCH_GAP_SECONDS": env.float("EVENT_BATCH_GAP", default=0.002),
    # An outbox row not sent this long after commit is sent by the worker's relay.
    "RELAY_AFTER_SECONDS": env.float("OUTBOX_RELAY_AFTER", default=2.0),
    "RELAY_INTERVAL_SECONDS": env.float("OUTBOX_RELAY_INTERVAL", default=1.0),
    # /health reports a worker whose outbox holds an event unsent for longer.
    "OUTBOX_ALARM_SECONDS": env.float("OUTBOX_ALARM_AFTER", default=30.0),
    # When the broker lost its queues (Redis restarted empty), what each service
    # published this long before is sent again; older losses need
    # `manage.py resend_outbox --since`.
    "RESEND_WINDOW_SECONDS": env.float("EVENT_RESEND_WINDOW", default=900.0),
}

# --- the admin behind the gateway -------------------------------------------------
# Every admin answers under the gateway's origin, at /admin/<project>/ (README,
# "Operators' admin"). The gateway sets X-Forwarded-Proto itself (it drops any a
# client sends), so a service knows whether the browser came over TLS: CSRF's origin
# check and Secure cookies (web/secure_cookies.py) follow it. The gateway's own
# settings turn this off: a client reaches it directly.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# One CSRF cookie for the gateway and every admin (the token a service's page carries
# is then good for the gateway's sign-out too), sent only under /admin/ and never
# readable by scripts. Origins other than the request's own host (a TLS terminator
# that rewrites Host, say) go in DJANGO_CSRF_TRUSTED_ORIGINS.
CSRF_COOKIE_PATH = "/admin/"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
# The admin's messages live in a signed cookie of each project's own, never in a session.
MESSAGE_STORAGE = "commerce_core.web.messages.ProjectCookieStorage"

# --- observability ----------------------------------------------------------------
# Traces are off unless OTEL_EXPORTER_OTLP_ENDPOINT (or TRACE_SPANS_FILE) is set
# (commerce_core/observability/tracing.py). With them on, Django's request cycle gets a
# span per request; the gateway, whose proxied requests never enter Django, makes its own.
TRACE_DJANGO_REQUESTS = True

# --- logging ----------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "commerce_core.web.request_id.RequestIdLogFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
