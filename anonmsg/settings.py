"""anonmsg settings: one file, driven by environment variables.

The defaults run the product on a bare machine (SQLite, DEBUG on, a development secret).
Set ANONMSG_PRODUCTION=1 for production: DEBUG off, SECRET_KEY required, secure cookies, HSTS.
See docs/configuration.md for every variable.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from anonmsg.env import (
    database_from_url,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_str,
    env_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent

PRODUCTION = env_bool("ANONMSG_PRODUCTION", False)
DEBUG = env_bool("DEBUG", not PRODUCTION)

SECRET_KEY = env_str("SECRET_KEY")
if PRODUCTION and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to at least 50 random characters when ANONMSG_PRODUCTION=1, e.g. "
        "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )
SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-0123456789-do-not-use-in-production-abcdefghij"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["*"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS must list this server's host names (comma-separated) when "
        "ANONMSG_PRODUCTION=1, e.g. ALLOWED_HOSTS=anonmsg.example.com"
    )
# The public base URL SDK snippets point at, e.g. https://anonmsg.example.com (no trailing slash).
# Empty: derived from each request.
PUBLIC_URL = env_url("PUBLIC_URL")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
if PUBLIC_URL:
    # Behind a TLS-terminating proxy the dashboard's own origin must be trusted for CSRF.
    _public = urlsplit(PUBLIC_URL)
    CSRF_TRUSTED_ORIGINS.append(f"{_public.scheme}://{_public.netloc}")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_q",
    "axes",
    "anonmsg",
    "campaigns",
    "delivery",
    "metrics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Database unreachable → 503 + Retry-After (JSON on the APIs), not a 500.
    "anonmsg.unavailable.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as axes asks: turns a locked-out login into the lockout page. On every other
    # request (the SDK API included) it only reads one attribute of the request.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "anonmsg.urls"
WSGI_APPLICATION = "anonmsg.wsgi.application"

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
                "anonmsg.context_processors.workspace_nav",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# DATABASE_URL selects the database; without it, an embedded SQLite file.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
_db = database_from_url(DATABASE_URL)
if _db["ENGINE"] == "django.db.backends.postgresql":
    if env_bool("DATABASE_POOL", False):
        # psycopg's connection pool, one per process (Django requires CONN_MAX_AGE=0 with it).
        _db.setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DATABASE_POOL_MIN", 2, minimum=0),
            "max_size": env_int("DATABASE_POOL_MAX", 10, minimum=1),
        }
        _db["CONN_MAX_AGE"] = 0
    else:
        # Persistent connections: each web thread keeps its connection between requests.
        _db["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60, minimum=0)
        # A health check costs one round trip per request; turning it off speeds the hot paths
        # up (bench/delivery.py: 0.34x -> 0.43x of a no-op view) at the price of one failed
        # request per connection after a database restart.
        _db["CONN_HEALTH_CHECKS"] = env_bool("DB_CONN_HEALTH_CHECKS", True)
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the task worker read while the other writes.
    _db.setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
# Delivery caches each workspace's live messages keyed on the workspace's content version, so
# even a per-process cache never serves stale messages. REDIS_URL selects a shared Redis cache;
# otherwise each process has its own memory cache.
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss"))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "anonmsg.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            # A stalled Redis must slow requests down a little, not hang them: delivery and
            # tracking fall back to the database when the cache fails.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "anonmsg",
        }
    }
# Warm delivery requests read the workspace and the visitor's state from the cache instead of
# the database (delivery/lookup.py). Only correct with a cache every process shares: on by
# default with REDIS_URL; turning it on without one is for single-process setups only.
DELIVERY_STATE_CACHE = env_bool("DELIVERY_STATE_CACHE", bool(REDIS_URL))

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# AxesStandaloneBackend first: it refuses a locked-out (user name, IP) before any password is
# checked. It needs the request, so every authenticate() call must pass one.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "anonmsg.auth.CaseInsensitiveUsernameBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login protection (django-axes; docs/operations.md). Failures are counted per user name and
# client IP together: an attacker is stopped after LOGIN_FAILURE_LIMIT guesses, but cannot lock
# the user out from every other address. Rows live in the database, shared by every process;
# staff see and delete them in the admin ("Access attempts").
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Attempts during a lockout do not extend it, so the page can say when it ends.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_CALLABLE = "anonmsg.auth.login_attempt_username"
AXES_LOCKOUT_CALLABLE = "anonmsg.auth.lockout_response"
# axes' access log would keep every successful login's IP address forever.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# The client IP is the connection's address, unless LOGIN_PROXY_COUNT says how many reverse
# proxies append to X-Forwarded-For: then the address the outermost proxy saw, counted from the
# right, so a value a client sends itself is never used.
LOGIN_PROXY_COUNT = env_int("LOGIN_PROXY_COUNT", 0, minimum=0)
if LOGIN_PROXY_COUNT:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    # ipware counts the proxies listed in the header: the last one is REMOTE_ADDR.
    AXES_IPWARE_PROXY_COUNT = LOGIN_PROXY_COUNT - 1
    # Not strict: entries a client prepended are ignored instead of discarding the header.
    IPWARE_STRICT = False
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Background tasks (django-q2, ORM broker: no extra service) ------------------------------
Q_CLUSTER = {
    "name": "anonmsg",
    "orm": "default",
    "workers": env_int("Q_WORKERS", 2, minimum=1),
    # A task is killed after `timeout` seconds; the broker re-offers it after `retry` seconds.
    # timeout < retry, or a slow task would run twice at once.
    "timeout": 300,
    "retry": 360,
    "max_attempts": 3,
    "catch_up": False,
    "save_limit": 500,
    "poll": 1,
}

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Load balancers call the health check over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- Product limits and tunables -------------------------------------------------------------
ANONMSG_RETENTION_DAYS = env_int("ANONMSG_RETENTION_DAYS", 30, minimum=1)
ANONMSG_POLL_INTERVAL = env_int("ANONMSG_POLL_INTERVAL", 30, minimum=1)
# Routes /bench/noop, the no-op JSON view benchmarks compare against (bench/). Off by default.
ANONMSG_BENCH = env_bool("ANONMSG_BENCH", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {
        "handlers": ["console"],
        "level": env_choice("LOG_LEVEL", "INFO", ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]),
    },
}
