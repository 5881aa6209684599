"""Wawasan settings: everything comes from the environment (CONTRACT.md section 2).

The defaults need no server: a SQLite file in the project root and Celery tasks run
in-process. Production sets DATABASE_URL, CELERY_BROKER_URL, SECRET_KEY and DEBUG=False.
"""

from pathlib import Path

import environ
from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from chats.business_time import DEFAULT_BUSINESS_HOURS, BusinessHoursError, parse_business_hours
from common.health_weights import DEFAULT_HEALTH_WEIGHTS, health_weights_parse

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# --- Core -----------------------------------------------------------------------------------
DEVELOPMENT_SECRET_KEY = "wawasan-development-key-never-use-in-production"
# Fails closed: a start without settings is a production start (make demo and tests say DEBUG).
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is the development key while DEBUG is off: set SECRET_KEY in the environment."
    )
# A key `check --deploy` would call weak (security.W009: under 50 characters, under 5 distinct
# ones, or Django's "django-insecure-" prefix) is refused at start, not merely warned about.
if not DEBUG and not (
    len(SECRET_KEY) >= SECRET_KEY_MIN_LENGTH
    and len(set(SECRET_KEY)) >= SECRET_KEY_MIN_UNIQUE_CHARACTERS
    and not SECRET_KEY.startswith(SECRET_KEY_INSECURE_PREFIX)
):
    raise ImproperlyConfigured(
        f"SECRET_KEY is weak while DEBUG is off: give at least {SECRET_KEY_MIN_LENGTH} random "
        f"characters (at least {SECRET_KEY_MIN_UNIQUE_CHARACTERS} different), e.g. from "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "config.admin_site.WawasanAdminConfig",  # django.contrib.admin, branded
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "corsheaders",
    "axes",
    "customers",
    "deals",
    "chats",
    "imports",
    "privacy",
    "insights",
    "audit",
    "accounts",
    "demo",
    "bench",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "config.middleware.RejectNulBytesMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.NoStoreJsonMiddleware",
    # Pins a figure-reading GET to one replica (DATABASE_REPLICA_URLS) before the run is read.
    "common.db_routing.ReplicaReadMiddleware",
    # Reads the last rebuild run once per request instead of once per figure.
    "insights.current_run.CurrentRunMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

# django-axes first: it refuses a locked-out user and address before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dashboards read while a rebuild writes; IMMEDIATE avoids lock-upgrade deadlocks.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    # The pipeline's covering index (insights.DealFact) is index-only on PostgreSQL; SQLite
    # builds it without its INCLUDE columns, which is all the embedded default needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
# Persistent connections: opening a PostgreSQL connection costs more (~8 ms measured by
# bench.request_cost) than a whole cached insights read. A `?conn_max_age=` in DATABASE_URL wins.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
# One cheap check per request before reusing a connection, so a restarted server is no error.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DB_CONN_HEALTH_CHECKS", default=True)
# import_records on PostgreSQL: COPY into a staging table and set-based SQL for contacts, deals
# and chat rooms (imports.fast); False sends every file through the portable path.
WAWASAN_IMPORT_COPY = env.bool("WAWASAN_IMPORT_COPY", default=True)
# A COPY-path load at least as large as the table it writes (a first import) locks the table,
# drops its secondary indexes and foreign keys and builds them again after the load, inside the
# import's one transaction (imports.fast.bulk_tables); False keeps them through the load.
WAWASAN_IMPORT_BULK = env.bool("WAWASAN_IMPORT_BULK", default=True)


def _psycopg_repeatable_read():
    from psycopg import IsolationLevel

    return IsolationLevel.REPEATABLE_READ


# Streaming replicas that serve the figure reads of GET requests (common/db_routing.py): each
# URL becomes an alias `replica_N`. Tests mirror them onto the primary's test database.
DATABASE_REPLICA_ALIASES: list[str] = []
for _n, _url in enumerate(env.list("DATABASE_REPLICA_URLS", default=[])):
    _replica = env.db_url_config(_url)
    if _replica["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            f"DATABASE_REPLICA_URLS entry {_n + 1} is not a postgres:// URL: replicas are "
            "PostgreSQL streaming replicas of DATABASE_URL."
        )
    _replica.setdefault("CONN_MAX_AGE", DATABASES["default"]["CONN_MAX_AGE"])
    _replica["CONN_HEALTH_CHECKS"] = DATABASES["default"]["CONN_HEALTH_CHECKS"]
    # One snapshot per request: the run pointer and that run's rows from the same moment of
    # replay, even if the replica replays the next rebuild's commit meanwhile.
    _replica.setdefault("OPTIONS", {})["isolation_level"] = _psycopg_repeatable_read()
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica_{_n}"] = _replica
    DATABASE_REPLICA_ALIASES.append(f"replica_{_n}")
if DATABASE_REPLICA_ALIASES and DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_REPLICA_URLS needs a postgres:// DATABASE_URL.")
DATABASE_ROUTERS = ["common.db_routing.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = env("LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("id", _("Bahasa Indonesia"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="Asia/Jakarta")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Login attempts (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username from
# one address, that pair is locked out for AXES_COOLOFF_HOURS; a success resets the count.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# The address is REMOTE_ADDR: a client can write any X-Forwarded-For, and trusting it would let
# an attacker pick a fresh address per guess. Behind a proxy that sets it, list
# AXES_IPWARE_META_PRECEDENCE_ORDER=HTTP_X_FORWARDED_FOR,REMOTE_ADDR.
AXES_IPWARE_META_PRECEDENCE_ORDER = env.list(
    "AXES_IPWARE_META_PRECEDENCE_ORDER", default=["REMOTE_ADDR"]
)

# Content-Security-Policy (django-csp): scripts and styles only from this site; the dashboard's
# scripts are static files. Django admin needs inline styles in a few widgets, so style-src
# allows 'unsafe-inline' (styles cannot run code); scripts never inline.
CONTENT_SECURITY_POLICY = {
    # django-celery-beat's schedule forms (superusers only, the "System" group) carry an inline
    # script of their own; every page of ours runs static scripts only.
    "EXCLUDE_URL_PREFIXES": ["/admin/django_celery_beat/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],  # ReDoc renders the schema in a blob worker
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="") or None
# Without a broker, tasks run in-process: the embedded default needs no Redis.
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL)
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# A page that queues a task fails within 2 s when the broker is down (insights.enqueue), instead
# of kombu's default of retrying the connection with growing sleeps: one retry, at most 1 s.
CELERY_BROKER_CONNECTION_TIMEOUT = 1.5
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1.5,
    "socket_timeout": 5,
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "connect_retries_timeout": 1,
}
if CELERY_BROKER_URL is None:
    CELERY_BROKER_URL = "memory://"

# --- Cache (shared by every process) --------------------------------------------------------
# The API throttle's counters live here, so they must be one store for all workers (a per-
# process memory cache let 2 workers pass twice the rate). CACHE_URL (redis://...) when set;
# else the broker's Redis when the broker is Redis; else a database table (accounts 0004
# migration creates it).
_CACHE_REDIS = env("CACHE_URL", default="") or (
    CELERY_BROKER_URL if str(CELERY_BROKER_URL).startswith(("redis://", "rediss://")) else ""
)
CACHE_TABLE = "wawasan_cache"
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _CACHE_REDIS}
        if _CACHE_REDIS
        else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": CACHE_TABLE}
    )
}
CACHES["default"]["KEY_PREFIX"] = "wawasan"

# --- REST framework -------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an anonymous request then gets 401 with `WWW-Authenticate: Token`.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Every endpoint needs insights.view_insights (CONTRACT.md section 4).
    "DEFAULT_PERMISSION_CLASSES": ["insights.api.permissions.CanViewInsights"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # DRF's anon and user rates, counted by one atomic increment (issue 27 item 19).
    "DEFAULT_THROTTLE_CLASSES": [
        "insights.api.throttling.AtomicAnonRateThrottle",
        "insights.api.throttling.AtomicUserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env("API_THROTTLE_RATE", default="600/minute"),
        "anon": env("API_ANON_THROTTLE_RATE", default="60/minute"),
    },
    "EXCEPTION_HANDLER": "insights.api.errors.api_exception_handler",
    # JSON bounded in size and depth, with text that can be stored (issue 27 item 14).
    "DEFAULT_PARSER_CLASSES": [
        "insights.api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": True,
}
# customers/ pages of an unfiltered list of at least this many rows (PostgreSQL's estimate)
# report that estimate as `count` with count_is_estimate: true instead of counting every row.
API_EXACT_COUNT_BELOW = env.int("API_EXACT_COUNT_BELOW", default=10_000)
SPECTACULAR_SETTINGS = {
    "TITLE": "Wawasan Customer Insights API",
    "DESCRIPTION": (
        "Deduplicated customers and the Customer Insights figures; each endpoint states the "
        "definitions of its figures. Every endpoint needs an "
        "authenticated user (session or `Authorization: Token <key>`) with the "
        "`insights.view_insights` permission."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema describes the data, so it is guarded like the data.
    "SERVE_PERMISSIONS": ["insights.api.permissions.CanViewInsights"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # ReDoc's own page fetches Google Fonts; templates/drf_spectacular/redoc.html does not,
    # and these system fonts replace them: nothing is loaded from outside the site.
    "REDOC_UI_SETTINGS": {
        "theme": {
            "typography": {
                "fontFamily": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
                "headings": {"fontFamily": "system-ui, -apple-system, 'Segoe UI', sans-serif"},
                "code": {"fontFamily": "ui-monospace, 'DejaVu Sans Mono', monospace"},
            }
        }
    },
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_GENERATE_CHOICE_DESCRIPTION": False,
}
# CORS is off unless origins are listed (comma-separated) and only ever covers the API.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"

# --- Wawasan --------------------------------------------------------------------------------
INSIGHTS_DEFAULT_REGION = env("INSIGHTS_DEFAULT_REGION", default="ID")
INSIGHTS_MAX_KEY_FANOUT = env.int("INSIGHTS_MAX_KEY_FANOUT", default=50)
INSIGHTS_CURRENCY = env("INSIGHTS_CURRENCY", default="IDR")
# The weekly business hours of the service targets (METRICS.md §L), local time; holidays are
# taken off (chats.Holiday). Read here once so that a bad value stops the start with its reason.
INSIGHTS_BUSINESS_HOURS = env("INSIGHTS_BUSINESS_HOURS", default=DEFAULT_BUSINESS_HOURS)
try:
    parse_business_hours(INSIGHTS_BUSINESS_HOURS)
except BusinessHoursError as error:
    raise ImproperlyConfigured(str(error)) from None
# METRICS.md Q: the weights of the customer health components (a component not named weighs 0).
try:
    INSIGHTS_HEALTH_WEIGHTS = health_weights_parse(
        env("INSIGHTS_HEALTH_WEIGHTS", default=DEFAULT_HEALTH_WEIGHTS)
    )
except ValueError as error:
    raise ImproperlyConfigured(f"INSIGHTS_HEALTH_WEIGHTS: {error}") from None
# Seconds from the first committed edit to the rebuild it queues (debounced; with a broker
# only; 0 = off). See insights/freshness.py.
INSIGHTS_REBUILD_AFTER_CHANGES_S = env.int("INSIGHTS_REBUILD_AFTER_CHANGES_S", default=30)
# A full rebuild's rollups in this many customer shards (insights/fanout.py), run as the parts
# of a Celery chord on whatever workers are up, or one after another in-process without a
# broker (and always on SQLite). 1 (the default) keeps the one-transaction rebuild.
INSIGHTS_REBUILD_PARTS = env.int("INSIGHTS_REBUILD_PARTS", default=1)
# A fanned-out run whose parts have not all finished after this many seconds is dead: the next
# rebuild marks it failed and drops its staged rows (a worker died mid-way, or none is up).
INSIGHTS_REBUILD_PARTS_TIMEOUT_S = env.int("INSIGHTS_REBUILD_PARTS_TIMEOUT_S", default=3600)
# PostgreSQL work_mem for the rebuild's own transactions (SET LOCAL; "" keeps the server's):
# the stock 4 MB spills its sorts and hash joins to disk. Per sort or hash node, per process.
INSIGHTS_REBUILD_WORK_MEM = env("INSIGHTS_REBUILD_WORK_MEM", default="256MB")
# Whether a committed rebuild computes the preset figures ahead of the first reader
# (insights.rebuild.figures_cache_warm). Off, the first reader of each figure computes it.
INSIGHTS_CACHE_WARM = env.bool("INSIGHTS_CACHE_WARM", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
