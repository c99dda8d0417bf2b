"""Settings for stardag-site, read from environment variables only (see README, "Configuration").

Two modes:

* ``DEBUG=1`` (development): a missing ``SECRET_KEY`` or ``JWT_PRIVATE_KEY`` is generated once and
  persisted under ``DATA_DIR`` so that every gunicorn worker and every restart shares it.
* ``DEBUG=0`` (the default, production): both must be configured; the server refuses to start
  without them, because a per-process signing key makes tokens minted by one worker fail on the
  next one.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from stardag_site.env import env_bool, env_int, env_list, env_secret, env_str
from stardag_site.error_reporting import init_sentry
from stardag_site.keys import load_or_create_dev_secret
from stardag_site.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "data")))

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_secret("SECRET_KEY") or ""
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off.")
    SECRET_KEY = load_or_create_dev_secret(DATA_DIR / "secret-key.txt", kind="secret")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])

# --- Identity: internal access tokens (RS256) ------------------------------------------------
JWT_PRIVATE_KEY = env_secret("JWT_PRIVATE_KEY") or ""
if not JWT_PRIVATE_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "JWT_PRIVATE_KEY (or JWT_PRIVATE_KEY_FILE) is required when DEBUG is off: every "
            "server process must sign access tokens with the same key."
        )
    JWT_PRIVATE_KEY = load_or_create_dev_secret(DATA_DIR / "jwt-private-key.pem", kind="rsa")
# PEM public keys of retired signing keys whose tokens are still accepted (rotation).
JWT_ADDITIONAL_PUBLIC_KEYS = env_secret("JWT_ADDITIONAL_PUBLIC_KEYS") or ""
JWT_KEY_ID = env_str("JWT_KEY_ID") or None
JWT_ISSUER = env_str("JWT_ISSUER", "stardag-api")
JWT_AUDIENCE = env_str("JWT_AUDIENCE", "stardag")
JWT_ACCESS_TOKEN_TTL_MINUTES = env_int("JWT_ACCESS_TOKEN_TTL_MINUTES", 60)
if JWT_ACCESS_TOKEN_TTL_MINUTES < 1:
    raise ImproperlyConfigured("JWT_ACCESS_TOKEN_TTL_MINUTES must be at least 1.")

# --- Identity: the external OIDC provider ------------------------------------------------------
OIDC_ISSUER_URL = (env_str("OIDC_ISSUER_URL") or "").rstrip("/")
OIDC_EXTERNAL_ISSUER_URL = (env_str("OIDC_EXTERNAL_ISSUER_URL") or "").rstrip("/")
OIDC_AUDIENCE = env_list("OIDC_AUDIENCE", ["stardag-ui", "stardag-sdk"])
OIDC_JWKS_URL = env_str("OIDC_JWKS_URL") or (
    f"{OIDC_ISSUER_URL}/protocol/openid-connect/certs" if OIDC_ISSUER_URL else ""
)
OIDC_JWKS_CACHE_TTL = env_int("OIDC_JWKS_CACHE_TTL", 300)
OIDC_JWKS_TIMEOUT = env_int("OIDC_JWKS_TIMEOUT", 5)
# Seconds of clock difference with the provider tolerated on exp/nbf/iat.
OIDC_CLOCK_LEEWAY_SECONDS = env_int("OIDC_CLOCK_LEEWAY_SECONDS", 30)
# Only for providers that verify every address and never send the ``email_verified`` claim:
# a token without the claim then counts as verified (an explicit ``false`` never does).
OIDC_ASSUME_EMAIL_VERIFIED = env_bool("OIDC_ASSUME_EMAIL_VERIFIED", False)
OIDC_SDK_CLIENT_ID = env_str("OIDC_SDK_CLIENT_ID", "stardag-sdk")

# Admin single sign-on through mozilla-django-oidc (optional; needs a confidential client).
OIDC_RP_CLIENT_ID = env_str("OIDC_RP_CLIENT_ID") or ""
OIDC_RP_CLIENT_SECRET = env_secret("OIDC_RP_CLIENT_SECRET") or ""
OIDC_ADMIN_SSO_ENABLED = bool(OIDC_ISSUER_URL and OIDC_RP_CLIENT_ID)
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = "openid email profile"
# mozilla-django-oidc's timeout for its token, userinfo and JWKS calls (it waits forever without).
OIDC_TIMEOUT = env_int("OIDC_ADMIN_SSO_TIMEOUT", 10)
OIDC_OP_JWKS_ENDPOINT = OIDC_JWKS_URL
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_OP_AUTHORIZATION_ENDPOINT") or (
    f"{OIDC_EXTERNAL_ISSUER_URL or OIDC_ISSUER_URL}/protocol/openid-connect/auth"
)
OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_OP_TOKEN_ENDPOINT") or (
    f"{OIDC_ISSUER_URL}/protocol/openid-connect/token"
)
OIDC_OP_USER_ENDPOINT = env_str("OIDC_OP_USER_ENDPOINT") or (
    f"{OIDC_ISSUER_URL}/protocol/openid-connect/userinfo"
)
LOGIN_REDIRECT_URL = "/admin/"
LOGOUT_REDIRECT_URL = "/admin/"

# --- Applications ------------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "mozilla_django_oidc",
    "axes",
    "accounts",
    "workspaces",
    "builds",
    "tasks",
    "locks",
    "audit",
]

MIDDLEWARE = [
    "stardag_site.request_context.RequestContextMiddleware",  # first: times and logs everything
    "stardag_site.middleware.DisallowedHostJsonMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "stardag_site.middleware.RequestBodyLimitMiddleware",
    "stardag_site.middleware.GzipRequestBodyMiddleware",
    "stardag_site.middleware.NoStoreForCredentialsMiddleware",
    "stardag_site.ratelimit.FailedAuthenticationGuardMiddleware",
    "stardag_site.middleware.RejectNulCharactersMiddleware",
    "stardag_site.middleware.SessionMiddleware",  # this and the two below: not for /api/
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "stardag_site.middleware.AuthenticationMiddleware",
    "stardag_site.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the lockout page
]

# Largest request body accepted (413 above it). Assets carry whole reports, so the default is
# generous; every byte is held in memory while the JSON is parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BODY_BYTES", 16 * 1024 * 1024)

ROOT_URLCONF = "stardag_site.urls"
WSGI_APPLICATION = "stardag_site.wsgi.application"
APPEND_SLASH = False  # the SDK never sends a trailing slash; a redirect would turn POSTs into GETs

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "stardag_site.context_processors.sso",
            ],
        },
    },
]

# --- Database ----------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'stardag.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the single writer; IMMEDIATE transactions take the write lock
    # up front, which serialises lock acquisition and registration across gunicorn workers.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATA_DIR.mkdir(parents=True, exist_ok=True)
# Every statement a request runs is cancelled after this many milliseconds (PostgreSQL), so no
# single request (a search with a pathological filter, say) can keep the database busy for long;
# the cancelled request answers 503 (stardag_site.api.exceptions). manage.py defaults it to 0 (off)
# because migrations and batch commands may legitimately run longer. SQLite has no equivalent.
DB_STATEMENT_TIMEOUT_MS = env_int("DB_STATEMENT_TIMEOUT_MS", 30000)
if DB_STATEMENT_TIMEOUT_MS < 0:
    raise ImproperlyConfigured("DB_STATEMENT_TIMEOUT_MS must be 0 (off) or a positive number.")
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DB_STATEMENT_TIMEOUT_MS:
    # A libpq startup option: set once per connection, no extra round trip per request.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = " ".join(filter(None, [
        _options.get("options", ""), f"-c statement_timeout={DB_STATEMENT_TIMEOUT_MS}",
    ]))
# Seconds a new PostgreSQL connection may take before the request gives up with a 503 (an
# unreachable database must not hold workers until the gunicorn timeout).
DB_CONNECT_TIMEOUT = env_int("DB_CONNECT_TIMEOUT", 5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DB_CONNECT_TIMEOUT > 0:
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = DB_CONNECT_TIMEOUT
# Server-side prepared statements for the hot queries (stardag_site/db/postgresql/base.py); off
# for a connection pooler in transaction mode that cannot carry them.
DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DB_PREPARED_STATEMENTS:
    # Django connects with psycopg's ``prepare_threshold=None`` (never prepare) unless OPTIONS
    # names one. Only the server-binding cursor of ``stardag_site.db.prepared`` can prepare
    # (Django's own cursors bind on the client and never do), so this affects those statements
    # alone: prepared on the server after their fifth run on a connection.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Same backend, with a per-request health check that polls the socket instead of sending
    # ``SELECT 1`` (stardag_site/db/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "stardag_site.db.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# django-axes first: it refuses a locked-out account or address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "accounts.login_throttle.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
if OIDC_ADMIN_SSO_ENABLED:
    AUTHENTICATION_BACKENDS.append("accounts.oidc.AdminOIDCBackend")
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Admin password sign-in: brute-force protection (django-axes; see accounts/login_throttle.py).
# Failures count per account and, separately, per client address; at the limit, further attempts
# are refused (429) until the cool-off has passed since the last failure.
AXES_ENABLED = env_bool("ADMIN_LOGIN_THROTTLE", True)
AXES_FAILURE_LIMIT = env_int("ADMIN_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("ADMIN_LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one alone locks
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.login_throttle.login_account"
AXES_CLIENT_IP_CALLABLE = "accounts.login_throttle.login_client_address"
ADMIN_LOGIN_PROXY_COUNT = env_int("ADMIN_LOGIN_PROXY_COUNT", 0)
AXES_ONLY_ADMIN_SITE = True  # the API takes no passwords
AXES_RESET_ON_SUCCESS = False  # a success would also clear its address's count of other accounts
AXES_DISABLE_ACCESS_LOG = True  # keep failures only, not a row per successful sign-in
AXES_ENABLE_ADMIN = False  # accounts/admin.py registers a smaller "Access attempts" page
AXES_LOCKOUT_TEMPLATE = "admin/login_locked.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["stardag_site.formats"]  # admin date-times with seconds and the zone

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env_str(
            "STATICFILES_STORAGE",
            "whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}

# --- HTTP security ------------------------------------------------------------------------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Secure cookies and HSTS do not follow SECURE_SSL_REDIRECT: a deployment behind a TLS-terminating
# proxy may turn the redirect off and is still served over HTTPS. Plain-HTTP use opts out.
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
# Both flags reach beyond this server (every subdomain; browsers' built-in preload lists, which
# are hard to leave), so only the operator of the whole domain can opt in.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# ``check --deploy`` reminds of both flags; leaving them off is this project's documented default.
SILENCED_SYSTEM_CHECKS = [
    *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
    *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
]
SECURE_REDIRECT_EXEMPT = [r"^health", r"^metrics$"]  # probes and scrapers speak plain HTTP
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

CORS_ALLOWED_ORIGINS = env_list("CORS_ORIGINS")
# Only the API answers cross-origin requests; the admin (session cookies) never does.
CORS_URLS_REGEX = r"^/(api/|auth/|\.well-known/|health(/|$))"
CORS_ALLOW_CREDENTIALS = True
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "origin",
    "user-agent",
    "x-api-key",
    "x-csrftoken",
    "x-requested-with",
)

# --- REST framework -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_PARSER_CLASSES": ["stardag_site.api.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["stardag_site.api.renderers.FastJSONRenderer"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "stardag_site.api.schema_errors.ContractAutoSchema",
    "EXCEPTION_HANDLER": "stardag_site.api.exceptions.api_exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["stardag_site.ratelimit.CredentialRateThrottle"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Stardag API",
    "DESCRIPTION": "Self-hosted Stardag registry: builds, tasks, events, assets, locks, "
    "workspaces, environments and API keys.",
    "VERSION": "1.0.0",  # the API's version; the server's own is on /health
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # System fonts: the stock Redoc page pulls Montserrat/Roboto from Google (offline docs).
    "REDOC_UI_SETTINGS": {
        "theme": {
            "typography": {
                "fontFamily": "system-ui, -apple-system, 'Segoe UI', sans-serif",
                "headings": {"fontFamily": "system-ui, -apple-system, 'Segoe UI', sans-serif"},
                "code": {"fontFamily": "ui-monospace, 'SFMono-Regular', Menlo, monospace"},
            },
        },
    },
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "PREPROCESSING_HOOKS": ["stardag_site.api.schema.strip_optional_trailing_slash",
                            "stardag_site.api.schema.drop_alias_routes"],
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "stardag_site.api.schema.describe_operations",
                             "stardag_site.api.schema_errors.add_standard_error_responses"],
    "ENUM_NAME_OVERRIDES": {
        "BuildStatusEnum": "builds.models.BuildStatus",
        "TaskStatusEnum": "tasks.models.TaskStatus",
    },
}

# --- Caching -----------------------------------------------------------------------------------
# Task-search suggestions (keys/values/columns) are cached per environment for this long
# (contract §4.12 allows up to 5 minutes); 0 turns the cache off. The cache is per process.
TASK_SEARCH_CACHE_SECONDS = env_int("TASK_SEARCH_CACHE_SECONDS", 300)
# A search filter may hold at most this many distinct clauses, and this many asset.* clauses
# (each one a subquery); beyond that the request is a 422 (planning cost grows quadratically).
TASK_SEARCH_MAX_CLAUSES = env_int("TASK_SEARCH_MAX_CLAUSES", 30)
TASK_SEARCH_MAX_ASSET_CLAUSES = env_int("TASK_SEARCH_MAX_ASSET_CLAUSES", 10)
CACHES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# --- Rate limiting (contract §8.6; stardag_site/ratelimit.py) ----------------------------------
# Requests per window per API key or user; per client address for anonymous calls; failed
# authentications per client address. 0 turns a limit off. Counters live in the "ratelimit"
# cache, shared by every process: the database by default, Redis when REDIS_URL is set.
RATE_LIMIT_REQUESTS = env_int("RATE_LIMIT_REQUESTS", 3000)
RATE_LIMIT_ANONYMOUS_REQUESTS = env_int("RATE_LIMIT_ANONYMOUS_REQUESTS", 300)
RATE_LIMIT_FAILED_AUTH = env_int("RATE_LIMIT_FAILED_AUTH", 60)
RATE_LIMIT_WINDOW_SECONDS = max(1, env_int("RATE_LIMIT_WINDOW_SECONDS", 60))
TRUST_X_FORWARDED_FOR = env_bool("TRUST_X_FORWARDED_FOR", False)
REDIS_URL = env_str("REDIS_URL") or ""
if REDIS_URL:
    CACHES["ratelimit"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
else:
    CACHES["ratelimit"] = {
        "BACKEND": "stardag_site.ratelimit.CounterDatabaseCache",
        "LOCATION": "stardag_rate_limit_cache",
        "OPTIONS": {"MAX_ENTRIES": 20_000, "CULL_FREQUENCY": 4},
    }

# --- Outgoing e-mail (invitations; best effort, never blocks a request) -------------------------
INVITE_EMAILS_ENABLED = env_bool("INVITE_EMAILS_ENABLED", False)
# Invitations send e-mail, so they are capped: pending invites per workspace, and invites a user
# may create per rolling hour (all workspaces, cancelled ones included). 0 turns a limit off.
INVITES_MAX_PENDING_PER_WORKSPACE = env_int("INVITES_MAX_PENDING_PER_WORKSPACE", 100)
INVITES_PER_USER_PER_HOUR = env_int("INVITES_PER_USER_PER_HOUR", 50)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "stardag@localhost")

# --- Operations ---------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOG_FORMAT = env_str("LOG_FORMAT", "plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be 'plain' or 'json'.")
LOGGING = logging_config(level=LOG_LEVEL, fmt=LOG_FORMAT)

# Prometheus /metrics: readable with this bearer token, or from these addresses (IPs or CIDR
# networks); with neither it answers 404.
METRICS_TOKEN = env_secret("METRICS_TOKEN") or ""
METRICS_ALLOWED_IPS = env_list("METRICS_ALLOWED_IPS")
try:
    METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network(value, strict=False)
                                for value in METRICS_ALLOWED_IPS]
except ValueError as exc:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_IPS: {exc}") from exc

# Audit entries older than this many days are deleted by ``manage.py purge``; 0 keeps them all.
AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 365)

# Optional error reporting to Sentry (or a compatible service such as GlitchTip).
SENTRY_DSN = env_secret("SENTRY_DSN") or ""
SENTRY_ENVIRONMENT = env_str("SENTRY_ENVIRONMENT", "production")
SENTRY_TRACES_SAMPLE_RATE = float(env_str("SENTRY_TRACES_SAMPLE_RATE", "0") or 0)
if SENTRY_DSN:
    init_sentry(dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT,
                traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE)
