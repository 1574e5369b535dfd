"""anonmsg settings: one file, driven by environment variables.

The defaults run the product on a bare machine as its users see it: SQLite, DEBUG off (DEBUG=1
for Django's debug pages), a secret key generated on first run and kept in a local file, and
only this machine's host names allowed.
Set ANONMSG_PRODUCTION=1 for production: SECRET_KEY and ALLOWED_HOSTS required, secure cookies,
HSTS. See docs/configuration.md for every variable.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from anonmsg.env import (
    database_from_url,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_redis_url,
    env_str,
    env_url,
    local_allowed_hosts,
    mail_backend,
    mailer_from_url,
    smtp_mailer,
)
from anonmsg.secret_key import is_known_key, read_or_create_key_file

BASE_DIR = Path(__file__).resolve().parent.parent

PRODUCTION = env_bool("ANONMSG_PRODUCTION", False)
# Off unless asked for: debug pages show settings and code to anyone who reaches the server.
DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
# The file a generated key was read from (None when SECRET_KEY is set): named by the error a
# node gets when its key differs from the other nodes' (anonmsg/shared_secret_key.py).
SECRET_KEY_FILE_READ = None
if PRODUCTION and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to at least 50 random characters when ANONMSG_PRODUCTION=1, e.g. "
        "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )
if not SECRET_KEY:
    # Outside production: generated on first run, kept out of git (anonmsg/secret_key.py).
    SECRET_KEY_FILE_READ = Path(env_str("SECRET_KEY_FILE", str(BASE_DIR / ".secret_key")))
    SECRET_KEY = read_or_create_key_file(SECRET_KEY_FILE_READ)
if is_known_key(SECRET_KEY) and not DEBUG:
    raise ImproperlyConfigured(
        "SECRET_KEY is a publicly known key: anyone could forge sessions and preview tokens "
        "with it. Set a new one (python3 -c 'import secrets; print(secrets.token_urlsafe(50))'), "
        "or unset SECRET_KEY outside production to have one generated."
    )
# Previous keys, still accepted for signatures while every node moves to a new SECRET_KEY.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
if any(is_known_key(key) for key in SECRET_KEY_FALLBACKS) and not DEBUG:
    raise ImproperlyConfigured(
        "SECRET_KEY_FALLBACKS holds a publicly known key: anyone could forge sessions with it."
    )

# Outside production: the host `make run` binds (HOST) and this machine's loopback names.
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else local_allowed_hosts(env_str("HOST", "127.0.0.1"))
)
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
    # The SDK APIs (delivery, tracking) skip the rest: no session, CSRF, auth… (docs/operations.md).
    "delivery.fast_lane.SdkFastLaneMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
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
                "django.template.context_processors.csp",
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
    # Behind PgBouncer in transaction pooling mode a cursor cannot outlive its transaction:
    # QuerySet.iterator() then reads whole results instead (docs/operations.md, "Scaling out").
    _db["DISABLE_SERVER_SIDE_CURSORS"] = env_bool("DB_DISABLE_SERVER_SIDE_CURSORS", False)
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
# The tracking API's statements are prepared once per connection (bind and execute only: most of
# a single event's database time is parsing and planning). PgBouncer before 1.21 cannot carry
# prepared statements in transaction pooling mode: off by default when the settings say it is
# there (DB_DISABLE_SERVER_SIDE_CURSORS). docs/configuration.md.
DB_PREPARED_STATEMENTS = _db["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DB_PREPARED_STATEMENTS", not _db.get("DISABLE_SERVER_SIDE_CURSORS", False)
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
# Delivery caches each workspace's live messages keyed on the workspace's content version, so
# even a per-process cache never serves stale messages. REDIS_URL selects a shared Redis cache;
# otherwise each process has its own memory cache.
REDIS_URL = env_redis_url("REDIS_URL")
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
# the database (delivery/sdk_api/visitor_state.py). Only correct with a cache every process
# shares: on by default with REDIS_URL; turning it on without one is for single-process setups
# only.
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
# The client IP, for login protection and rate limits alike (anonmsg/client_ip.py): the
# connection's address, unless LOGIN_PROXY_COUNT says how many reverse proxies append to
# X-Forwarded-For: then the address the outermost proxy saw, counted from the right, so a value
# a client sends itself is never used.
LOGIN_PROXY_COUNT = env_int("LOGIN_PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "anonmsg.client_ip.client_ip"

# --- Rate limits (anonmsg/rate_limits.py; docs/configuration.md) -----------------------------
# Requests per minute; a bucket holds one minute's worth (the burst) and refills evenly.
# 0 turns one limit off, RATE_LIMITS=0 all of them. Shared through Redis with REDIS_URL,
# otherwise per process.
RATE_LIMITS_ENABLED = env_bool("RATE_LIMITS", True)
RATE_LIMITS = {
    "tracking_per_ip": env_int("RATE_LIMIT_TRACKING_PER_IP", 6_000, minimum=0),
    "tracking_per_key": env_int("RATE_LIMIT_TRACKING_PER_KEY", 120_000, minimum=0),
    "delivery_per_ip": env_int("RATE_LIMIT_DELIVERY_PER_IP", 6_000, minimum=0),
    "delivery_per_key": env_int("RATE_LIMIT_DELIVERY_PER_KEY", 120_000, minimum=0),
    "sdk_script_per_ip": env_int("RATE_LIMIT_SDK_SCRIPT_PER_IP", 1_200, minimum=0),
    "app_api_per_key": env_int("RATE_LIMIT_APP_API_PER_KEY", 1_200, minimum=0),
    "failed_auth_per_ip": env_int("RATE_LIMIT_FAILED_AUTH_PER_IP", 300, minimum=0),
}
# With Redis: each process decides from its own copy of the buckets and sends what it spent to
# Redis (and reads back what every process spent) at most this often, so a request makes no
# round trip for its limits. 0: every request is decided in Redis itself (exact, a round trip).
RATE_LIMIT_SYNC_MS = env_int("RATE_LIMIT_SYNC_MS", 100, minimum=0)

# --- E-mail ---------------------------------------------------------------------------------
# Invitations are e-mailed (docs/configuration.md, "E-mail"): EMAIL_URL, or the EMAIL_HOST
# family. Development prints e-mails on the console. Production without either sends none:
# admins send the invitation link the dashboard shows them (anonmsg/mail.py).
EMAIL_URL = env_str("EMAIL_URL")
if EMAIL_URL:
    _mailer = mailer_from_url(EMAIL_URL)
elif env_str("EMAIL_HOST"):
    _use_ssl = env_bool("EMAIL_USE_SSL", False)
    _use_tls = env_bool("EMAIL_USE_TLS", not _use_ssl)
    if _use_ssl and _use_tls:
        raise ImproperlyConfigured("Set EMAIL_USE_TLS (STARTTLS) or EMAIL_USE_SSL, not both.")
    _mailer = smtp_mailer(
        host=env_str("EMAIL_HOST"),
        port=env_int("EMAIL_PORT", 465 if _use_ssl else 587, minimum=1, maximum=65535),
        username=env_str("EMAIL_HOST_USER"),
        password=env_str("EMAIL_HOST_PASSWORD"),
        security="ssl" if _use_ssl else "tls" if _use_tls else None,
    )
elif PRODUCTION:
    _mailer = {"BACKEND": "anonmsg.mail.NoMailServerBackend"}
else:
    _mailer = {"BACKEND": mail_backend("console")}
if _mailer["BACKEND"] == mail_backend("smtp"):
    # A stalled mail server must not hang the admin's request for long.
    _mailer["OPTIONS"].setdefault("timeout", env_int("EMAIL_TIMEOUT", 10, minimum=1))
MAILERS = {"default": _mailer}
DEFAULT_FROM_EMAIL = env_str(
    "DEFAULT_FROM_EMAIL",
    f"anonmsg <noreply@{urlsplit(PUBLIC_URL).hostname if PUBLIC_URL else 'localhost'}>",
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# False when e-mails go nowhere: the dashboard then tells admins to send invitation links.
ANONMSG_SENDS_EMAIL = _mailer["BACKEND"] not in {
    mail_backend("dummy"),
    "anonmsg.mail.NoMailServerBackend",
}

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
# bin/worker restarts a cluster whose tasks wait this long while every worker idles
# (anonmsg/task_cluster.py).
WORKER_STUCK_SECONDS = env_int("WORKER_STUCK_SECONDS", 30, minimum=1)

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (docs/operations.md): scripts only from this server or with the
# response's nonce, so injected markup cannot run script. Inline styles stay allowed: the
# wizard's preview renders the marketer's HTML (the builder's <style>, style attributes) in
# srcdoc frames, which inherit this policy and arrive through htmx swaps, where no nonce of
# the page's could match. Images may come from any https host (messages' images).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "https:"],
    "font-src": [CSP.SELF, "data:", "https:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
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
    # No query strings in logs (anonymous ids, page URLs, preview tokens); gunicorn's access
    # log leaves them out too (Procfile: %(U)s, not %(r)s).
    "filters": {"no_query_strings": {"()": "anonmsg.log_filters.StripQueryStrings"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["no_query_strings"]},
    },
    # The development server's request log (`manage.py runserver`), through the filter above.
    "loggers": {"django.server": {"handlers": ["console"], "level": "INFO", "propagate": False}},
    "root": {
        "handlers": ["console"],
        "level": env_choice("LOG_LEVEL", "INFO", ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]),
    },
}
