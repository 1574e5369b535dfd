"""The SECRET_KEY outside production mode, and the keys that must never sign anything.

The key signs sessions, CSRF tokens and the dashboard's preview tokens: whoever knows it can
forge them (e.g. read any workspace's draft message through `/api/v1/delivery?preview=`). So
there is no built-in fallback: without `SECRET_KEY`, the first run generates a key and keeps it
in a local, git-ignored file readable by its owner only (mode 0600).
"""

import contextlib
import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# Keys published in this repository's history (earlier releases' built-in fallback).
PUBLISHED_KEYS = frozenset({"dev-only-insecure-key-0123456789-do-not-use-in-production-abcdefghij"})
# Django's `startproject` keys: thousands of them sit in public repositories.
DJANGO_TEMPLATE_PREFIX = "django-insecure-"
MIN_LENGTH = 50


def is_known_key(key: str) -> bool:
    """Whether `key` is public knowledge, so anyone could sign with it."""
    return key in PUBLISHED_KEYS or key.startswith(DJANGO_TEMPLATE_PREFIX)


def generate_key() -> str:
    return secrets.token_urlsafe(MIN_LENGTH)


def read_or_create_key_file(path: Path) -> str:
    """The key stored at `path`, generated (mode 0600) if the file does not exist yet.

    Safe when several processes start at once (web server and worker): the file appears
    complete or not at all, and every process reads the one that won.
    """
    if not path.exists():
        _create_key_file(path)
    try:
        key = path.read_text().strip()
    except OSError as exc:
        raise ImproperlyConfigured(f"Cannot read the secret key file {path}: {exc}.") from None
    if len(key) < MIN_LENGTH:
        raise ImproperlyConfigured(
            f"The secret key file {path} holds fewer than {MIN_LENGTH} characters: delete it "
            "to have a new key generated, or set SECRET_KEY."
        )
    return key


def _create_key_file(path: Path) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(generate_key() + "\n")
        # Fails if another process created the file meanwhile: theirs is kept.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    except OSError as exc:
        raise ImproperlyConfigured(
            f"Cannot create the secret key file {path} ({exc}): set SECRET_KEY, or "
            "SECRET_KEY_FILE to a writable path."
        ) from None
    finally:
        temporary.unlink(missing_ok=True)
