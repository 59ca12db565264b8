"""Gateway settings: the shared defaults plus what is the gateway's own.

The gateway has no domain models. Its database holds the event inbox and dead
letters of its event worker (the one that records pushable events) and its own
admin's accounts; the operators' sessions are in Redis.
"""

from pathlib import Path

from commerce_core.settings.base import *  # noqa: F403
from commerce_core.settings.base import (
    ACCESS_TOKEN_LIFETIME,
    DATA_UPLOAD_MAX_MEMORY_SIZE,
    INSTALLED_APPS,
    MIDDLEWARE,
    REDIS_URL,
    SPECTACULAR_SETTINGS,
    build_databases,
)
from commerce_core.settings.env import env
from commerce_core.settings.topology import SERVICES

SERVICE_NAME = "gateway"
BASE_DIR = Path(__file__).resolve().parent.parent
ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
INSTALLED_APPS = [*INSTALLED_APPS, "channels", "drf_spectacular_sidecar", "edge", "push", "live", "sign_on"]
# Request ids are handled at the ASGI layer for every response, proxied or not
# (RequestIdASGIMiddleware, in config/asgi.py), so the per-view one is left out.
# Load shedding is for services whose threads a queue can wait on; the gateway's own
# views run on the event loop. Every HTTP request, proxied or not, is measured and
# traced by the ASGI layer (proxy/telemetry.py), not by Django.
# The gateway is where operators sign in (sign_on/): it keeps real sessions, and the
# user of its own pages under /admin/ is the signed-on operator.
_GATEWAY_MIDDLEWARE = {
    "commerce_core.operators.middleware.NoSessionMiddleware": "django.contrib.sessions.middleware.SessionMiddleware",
    "commerce_core.operators.middleware.GatewayOperatorMiddleware": "sign_on.middleware.SignedOnOperatorMiddleware",
}
MIDDLEWARE = [
    _GATEWAY_MIDDLEWARE.get(m, m)
    for m in MIDDLEWARE
    if m
    not in (
        "commerce_core.web.request_id.RequestIdMiddleware",
        "commerce_core.web.load_shedding.LoadSheddingMiddleware",
        "commerce_core.observability.middleware.HttpMetricsMiddleware",
    )
]
TRACE_DJANGO_REQUESTS = False
DATABASES = build_databases(SERVICE_NAME)

# --- the edge -----------------------------------------------------------------------
GATEWAY = {
    # Seconds an upstream may take to answer (and, while streaming, between two
    # chunks) before the client gets 504. GATEWAY_UPSTREAM_TIMEOUT_<SERVICE>
    # (e.g. _PAYMENT) overrides it for one route.
    "UPSTREAM_TIMEOUT": env.float("GATEWAY_UPSTREAM_TIMEOUT", default=10.0),
    "UPSTREAM_TIMEOUTS": {
        project.name: env.float(f"GATEWAY_UPSTREAM_TIMEOUT_{project.name.upper()}", default=None)
        for project in SERVICES
    },
    # Same limit the services apply to themselves, so the gateway never forwards
    # a body a service would refuse anyway.
    "MAX_BODY_BYTES": DATA_UPLOAD_MAX_MEMORY_SIZE,
    # Seconds a client has to send its whole request body. The body is read before
    # a service is contacted, so a slow client holds no service thread meanwhile;
    # past this it gets 408 and its connection is closed.
    "CLIENT_BODY_TIMEOUT": env.float("GATEWAY_CLIENT_BODY_TIMEOUT", default=10.0),
    # A pooled connection idle longer than this is not reused: uvicorn closes idle
    # keep-alive connections after 5 s, and reusing one at that instant loses a
    # non-idempotent request that cannot be retried.
    "UPSTREAM_IDLE_REUSE_SECONDS": env.float("GATEWAY_UPSTREAM_IDLE_REUSE", default=4.0),
    "UPSTREAM_MAX_IDLE_CONNECTIONS": env.int("GATEWAY_UPSTREAM_MAX_IDLE", default=256),
    # Rate limits, kept in Redis (proxy/rate_limits.py): (sustained requests per
    # second, burst) for every proxied request per user (else per client address),
    # and for sign-ins and sign-ups per client address, where passwords and
    # usernames are guessed. The defaults leave room for the platform's own tests and
    # load runs from one address; the request limit is a flood guard, which a
    # benchmark flooding one gateway process from one address can reach on a fast
    # machine (the benchmarks raise it, bench/harness.py). Fit them to your traffic.
    "RATE_LIMITS": {
        "ENABLED": env.bool("GATEWAY_RATE_LIMITS", default=True),
        "REQUESTS": (
            env.float("GATEWAY_RATE_LIMIT_RATE", default=1000.0),
            env.int("GATEWAY_RATE_LIMIT_BURST", default=10000),
        ),
        "SIGN_INS": (
            env.float("GATEWAY_SIGN_IN_LIMIT_RATE", default=1.0),
            env.int("GATEWAY_SIGN_IN_LIMIT_BURST", default=500),
        ),
        "SIGN_UPS": (
            env.float("GATEWAY_SIGN_UP_LIMIT_RATE", default=1.0),
            env.int("GATEWAY_SIGN_UP_LIMIT_BURST", default=500),
        ),
        "KEY_PREFIX": "ratelimit:",
    },
    # How long a verified access token's signed identity is reused (always less
    # than the 30 s the signed header stays valid, never past the token's expiry).
    "IDENTITY_CACHE_SECONDS": 10.0,
    "HEALTH_TIMEOUT": env.float("GATEWAY_HEALTH_TIMEOUT", default=1.0),
    "SCHEMA_TIMEOUT": env.float("GATEWAY_SCHEMA_TIMEOUT", default=5.0),
    "SCHEMA_CACHE_SECONDS": env.float("GATEWAY_SCHEMA_CACHE", default=30.0),
}

# --- the operators' single sign-on (sign_on/, README "Operators' admin") --------------
# Clients reach the gateway directly: X-Forwarded-Proto is a client's to send here, so
# whether a request came over TLS is uvicorn's scheme (it takes the header only from
# --forwarded-allow-ips, a local TLS terminator).
SECURE_PROXY_SSL_HEADER = None
# Django's sessions, kept in Redis (shared by every gateway process; gone at sign-out
# for all of them at once). The cookie holds only the session's random key: the auth
# service's tokens never leave the gateway.
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
SESSION_CACHE_ALIAS = "operator_sessions"
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "operator_sessions": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "operators",
        "OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 2},
    },
}
SESSION_COOKIE_NAME = "admin_session"
SESSION_COOKIE_PATH = "/admin/"  # never sent to the APIs, the live page or anything else
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True  # no Max-Age: the cookie ends with the browser
OPERATOR_SIGN_ON = {
    # A session unused this long ends (also the cookie's life in Redis).
    "IDLE_SECONDS": env.int("ADMIN_SESSION_IDLE_SECONDS", default=30 * 60),
    # A session ends this long after its sign-in, however busy.
    "MAX_SECONDS": env.int("ADMIN_SESSION_MAX_SECONDS", default=8 * 3600),
    # How often each gateway process asks the auth service again (a token refresh)
    # whether the operator is still an active staff member.
    "RECHECK_SECONDS": env.float("ADMIN_SESSION_RECHECK_SECONDS", default=60.0),
}
SESSION_COOKIE_AGE = OPERATOR_SIGN_ON["IDLE_SECONDS"]

# --- push to clients (WebSocket and Socket.IO) ---------------------------------------
# Read through push/conf.py; every key is documented there and in the README.
PUSH = {
    "REDIS_URL": env.str("PUSH_REDIS_URL", default=REDIS_URL),
    # History kept per stream for recovery: at least the last HISTORY_EVENTS events
    # AND everything younger than HISTORY_SECONDS, never more than HISTORY_MAX_EVENTS.
    "HISTORY_EVENTS": env.int("PUSH_HISTORY_EVENTS", default=1000),
    "HISTORY_SECONDS": env.int("PUSH_HISTORY_SECONDS", default=600),
    "HISTORY_MAX_EVENTS": env.int("PUSH_HISTORY_MAX_EVENTS", default=100_000),
    # A stream without a new event for this long is dropped (with its epoch).
    "HISTORY_IDLE_SECONDS": env.int("PUSH_HISTORY_IDLE_SECONDS", default=24 * 3600),
    # Frames queued for one socket beyond this many bytes close it with 4408.
    "SEND_BACKLOG_BYTES": env.int("PUSH_SEND_BACKLOG_BYTES", default=1024 * 1024),
    # How long a deactivated user's still-valid access tokens are refused.
    "DEACTIVATED_SECONDS": int(ACCESS_TOKEN_LIFETIME.total_seconds()) + 60,
}

# The Channels layer carries control orders to every gateway process (push/control.py):
# one channel per process, never one message per listener and event. Not the
# "default" alias: Channels would give every socket's consumer a channel of its own,
# each with a blocking receive in Redis.
CHANNEL_LAYERS = {
    "control": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            # redis-py's default 5 s read timeout equals channels-redis's blocking
            # receive (BZPOPMIN): reads must be allowed to outlast it.
            "hosts": [{"address": PUSH["REDIS_URL"], "socket_timeout": 15}],
            # A member is forgotten after this long unless it joins again; each process
            # renews its membership every hour (push/hub.py).
            "group_expiry": 24 * 3600,
        },
    },
}

# --- API documentation ----------------------------------------------------------------
SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,
    "TITLE": "Commerce platform API",
    # Swagger UI's assets come from drf-spectacular-sidecar and are served by the
    # gateway itself (config/asgi.py), not from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
