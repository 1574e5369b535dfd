"""Typed readers for environment variables: a bad value is a clear startup error.

An empty value counts as unset (`DATABASE_URL=` in a compose file means "use the default").
Every error names the variable, the value it got and what it expects.
"""

import os
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}

# The databases anonmsg is built and tested on.
SUPPORTED_ENGINES = {
    "django.db.backends.postgresql": "PostgreSQL",
    "django.db.backends.sqlite3": "SQLite",
}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str = "") -> str:
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    raw = _raw(name)
    if raw is None:
        return default
    value = raw.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off."
    )


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    raw = _raw(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is too small: it must be at least {minimum}.")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name}={value} is too large: it must be at most {maximum}.")
    return value


def env_choice(name: str, default: str, choices: list[str]) -> str:
    """One of `choices`, compared case-insensitively; returns the spelling in `choices`."""
    raw = _raw(name)
    if raw is None:
        return default
    by_lower = {choice.lower(): choice for choice in choices}
    if raw.lower() not in by_lower:
        raise ImproperlyConfigured(f"{name}={raw!r} is not one of: {', '.join(choices)}.")
    return by_lower[raw.lower()]


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """A comma-separated list; blanks around items are ignored."""
    raw = _raw(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_url(name: str, default: str = "", *, schemes: tuple[str, ...] = ("http", "https")) -> str:
    """An absolute URL (scheme and host, optional path), without a trailing slash."""
    raw = _raw(name)
    if raw is None:
        return default
    parts = urlsplit(raw)
    if parts.scheme not in schemes or not parts.netloc or parts.query or parts.fragment:
        example = f"{schemes[0]}://anonmsg.example.com"
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not an absolute {'/'.join(schemes)} URL (e.g. {example})."
        )
    return raw.rstrip("/")


def env_redis_url(name: str) -> str:
    """A Redis URL: `redis://host:port/db`, `rediss://…` (TLS), or `unix:///path/to.sock` with
    an optional `?db=N`: a Redis on the same machine through its Unix socket, which costs each
    round trip less than loopback TCP (docs/operations.md)."""
    raw = _raw(name)
    if raw is None:
        return ""
    parts = urlsplit(raw)
    if parts.scheme == "unix":
        query = parse_qs(parts.query, keep_blank_values=True)
        if not parts.path or parts.fragment or set(query) - {"db"}:
            raise ImproperlyConfigured(
                f"{name}={raw!r} is not a Unix socket URL: use unix:///path/to/redis.sock "
                "(optionally ?db=N)."
            )
        if "db" in query and not (len(query["db"]) == 1 and query["db"][0].isdigit()):
            raise ImproperlyConfigured(f"{name}={raw!r}: db must be a database number.")
        return raw
    return env_url(name, schemes=("redis", "rediss"))


LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]"]


def local_allowed_hosts(bound_host: str) -> list[str]:
    """ALLOWED_HOSTS for a server bound to `bound_host`: that address and the loopback names.

    A wildcard bind (0.0.0.0, ::) names no host: a server reached under other names must list
    them in ALLOWED_HOSTS.
    """
    host = bound_host.strip().strip("[]")
    if host in ("", "0.0.0.0", "::"):
        return list(LOOPBACK_HOSTS)
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address, as it appears in a Host header
    return list(dict.fromkeys([host, *LOOPBACK_HOSTS]))


def database_from_url(url: str, *, name: str = "DATABASE_URL") -> dict:
    """Django's DATABASES["default"] for a database URL; only PostgreSQL and SQLite."""
    try:
        config = dj_database_url.parse(url)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name}={_redact(url)!r} is not a database URL. Use "
            "postgres://USER:PASSWORD@HOST:5432/NAME for PostgreSQL or "
            "sqlite:////absolute/path/db.sqlite3 for SQLite."
        ) from None
    engine = config.get("ENGINE")
    if engine not in SUPPORTED_ENGINES:
        raise ImproperlyConfigured(
            f"{name}={_redact(url)!r} selects {engine}, which anonmsg does not support: "
            "use a postgres:// or sqlite:// URL."
        )
    if not config.get("NAME"):
        raise ImproperlyConfigured(
            f"{name}={_redact(url)!r} names no database: add it after the host, "
            "e.g. postgres://postgres@127.0.0.1:5432/anonmsg."
        )
    return config


# EMAIL_URL schemes: (backend, default port, TLS mode). "tls" is STARTTLS, "ssl" implicit TLS.
_EMAIL_SCHEMES = {
    "smtp": ("smtp", 25, None),
    "submission": ("smtp", 587, "tls"),
    "smtps": ("smtp", 465, "ssl"),
    "console": ("console", None, None),
    "dummy": ("dummy", None, None),
}
_EMAIL_URL_HELP = (
    "Use submission://USER:PASSWORD@HOST (port 587, STARTTLS), smtps://USER:PASSWORD@HOST "
    "(port 465, TLS), smtp://HOST:25 (add ?tls=1 for STARTTLS), console:// or dummy://."
)


def mail_backend(name: str) -> str:
    return f"django.core.mail.backends.{name}.EmailBackend"


def smtp_mailer(
    *,
    host: str,
    port: int,
    username: str = "",
    password: str = "",
    security: str | None = None,
    timeout: int | None = None,
) -> dict:
    """A MAILERS entry for an SMTP server; `security` is None, "tls" (STARTTLS) or "ssl"."""
    options = {
        "host": host,
        "port": port,
        "username": username,
        "password": password,
        "use_tls": security == "tls",
        "use_ssl": security == "ssl",
    }
    if timeout is not None:
        options["timeout"] = timeout
    return {"BACKEND": mail_backend("smtp"), "OPTIONS": options}


def mailer_from_url(url: str, *, name: str = "EMAIL_URL") -> dict:
    """A MAILERS entry (Django 6.1) for an e-mail URL; user and password are percent-decoded.

    Written here rather than with dj-email-url, which builds the deprecated EMAIL_* settings
    and reads smtps:// as STARTTLS.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise ImproperlyConfigured(
            f"{name}={_redact(url)!r} is not a URL. {_EMAIL_URL_HELP}"
        ) from None
    if parts.scheme not in _EMAIL_SCHEMES:
        raise ImproperlyConfigured(
            f"{name}={_redact(url)!r} has an unknown scheme. {_EMAIL_URL_HELP}"
        )
    backend, default_port, security = _EMAIL_SCHEMES[parts.scheme]
    if backend != "smtp":
        return {"BACKEND": mail_backend(backend)}
    if not parts.hostname:
        raise ImproperlyConfigured(
            f"{name}={_redact(url)!r} names no mail server. {_EMAIL_URL_HELP}"
        )
    unknown = set(query) - {"tls", "ssl", "timeout"}
    if unknown:
        raise ImproperlyConfigured(
            f"{name}={_redact(url)!r}: unknown option {', '.join(sorted(unknown))} "
            "(known: tls, ssl, timeout)."
        )
    chosen = []
    for option in ("tls", "ssl"):
        if option not in query:
            continue
        raw = query[option][-1]
        if raw.strip().lower() not in _TRUE | _FALSE:
            raise ImproperlyConfigured(
                f"{name}={_redact(url)!r}: {option}={raw!r} is not a boolean (use 1 or 0)."
            )
        if raw.strip().lower() in _TRUE:
            chosen.append(option)
        elif security == option:
            security = None  # e.g. submission://…?tls=0
    if len(chosen) > 1:
        raise ImproperlyConfigured(f"{name}={_redact(url)!r}: choose tls or ssl, not both.")
    timeout = None
    if "timeout" in query:
        raw = query["timeout"][-1]
        if not raw.isdigit() or int(raw) < 1:
            raise ImproperlyConfigured(
                f"{name}={_redact(url)!r}: timeout={raw!r} is not a number of seconds."
            )
        timeout = int(raw)
    return smtp_mailer(
        host=parts.hostname,
        port=port or default_port,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        security=chosen[0] if chosen else security,
        timeout=timeout,
    )


def _redact(url: str) -> str:
    """The URL with its password replaced, so errors can be logged safely."""
    try:
        parts = urlsplit(url)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
            return parts._replace(netloc=netloc).geturl()
    except ValueError:
        pass
    return url
