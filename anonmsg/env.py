"""Typed readers for environment variables: a bad value is a clear startup error.

An empty value counts as unset (`DATABASE_URL=` in a compose file means "use the default").
Every error names the variable, the value it got and what it expects.
"""

import os
from urllib.parse import urlsplit

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
