"""Every node of a site signs with the same SECRET_KEY, or refuses to start.

Sessions, preview links and password-reset links signed on one node are checked on whichever
node the load balancer picks next. With two keys, dashboard users are logged out at random and
preview links fail every other time, and nothing says why. That happens easily: outside
production mode each machine generates its own key file (`.secret_key`). So each web and
worker process, when it starts, compares a fingerprint of its key (an HMAC: the key never
leaves the process) with the one stored in the database, the first node's. A mismatch stops
the process with a message that says what to do. A stored fingerprint that matches one of
SECRET_KEY_FALLBACKS is a rotation under way: it is replaced by the new key's.

SQLite is one machine's database, so it is not checked (and deleting `.secret_key` keeps
meaning "a new key"). A database that cannot be read yet (down, or not migrated) is logged
and checked at the next start, never a reason not to start.
"""

import enum
import logging
import os
import socket
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection
from django.utils import timezone
from django.utils.crypto import salted_hmac

logger = logging.getLogger(__name__)

# Exit code of a worker that refuses to start for this (EX_CONFIG): bin/worker does not retry.
MISCONFIGURED = 78
ROW_ID = 1


class Verdict(enum.Enum):
    FIRST = "first"  # nothing recorded yet: this key becomes the site's key
    SAME = "same"
    ROTATED = "rotated"  # the recorded key is one of this node's fallbacks
    DIFFERENT = "different"


def fingerprint(key: str) -> str:
    return salted_hmac(
        "anonmsg.shared_secret_key", "SECRET_KEY fingerprint", secret=key, algorithm="sha256"
    ).hexdigest()


def compare(*, recorded: str | None, current: str, fallbacks: Iterable[str]) -> Verdict:
    """How this node's key fingerprint relates to the recorded one (all fingerprints)."""
    if recorded is None:
        return Verdict.FIRST
    if recorded == current:
        return Verdict.SAME
    if recorded in set(fallbacks):
        return Verdict.ROTATED
    return Verdict.DIFFERENT


def verify_shared_secret_key() -> None:
    """Called when a web or worker process starts; raises ImproperlyConfigured when this
    process's SECRET_KEY is not the key the other nodes of its database use."""
    if connection.vendor == "sqlite":
        return
    try:
        _verify()
    except DatabaseError as exc:
        logger.warning(
            "Could not compare SECRET_KEY with the other nodes' (%s: %s); checked at the next "
            "start",
            type(exc).__name__,
            str(exc).strip().splitlines()[0] if str(exc).strip() else "",
        )
    finally:
        # Nothing opened here may be shared with processes forked later (gunicorn --preload,
        # the task cluster's workers).
        connection.close()


def adopt_shared_secret_key() -> None:
    """Make this process's SECRET_KEY the one every node must use (`manage.py
    adopt_secret_key`, after changing the key on purpose)."""
    from anonmsg.models import SecretKeyFingerprint

    SecretKeyFingerprint.objects.update_or_create(pk=ROW_ID, defaults=_this_node())


def _verify() -> None:
    from anonmsg.models import SecretKeyFingerprint

    mine = _this_node()
    row, created = SecretKeyFingerprint.objects.get_or_create(pk=ROW_ID, defaults=mine)
    verdict = compare(
        recorded=None if created else row.fingerprint,
        current=mine["fingerprint"],
        fallbacks=[fingerprint(key) for key in settings.SECRET_KEY_FALLBACKS],
    )
    if verdict is Verdict.ROTATED:
        # Conditional: of two nodes rotating at once, one records and both are right.
        SecretKeyFingerprint.objects.filter(pk=ROW_ID, fingerprint=row.fingerprint).update(**mine)
        logger.warning(
            "SECRET_KEY rotated: the previous key is in SECRET_KEY_FALLBACKS; every node must "
            "now run with the new key (recorded by %s)",
            mine["recorded_by"],
        )
    elif verdict is Verdict.DIFFERENT:
        raise ImproperlyConfigured(mismatch_message(row))


def mismatch_message(row) -> str:
    where = (
        f"This process generated its own key into {settings.SECRET_KEY_FILE_READ} because "
        "SECRET_KEY is not set: set SECRET_KEY instead, to the same value on every node."
        if settings.SECRET_KEY_FILE_READ
        else "Set this node's SECRET_KEY to the other nodes' value."
    )
    return (
        "SECRET_KEY differs from the key the other web and worker processes of this database "
        f"sign with (recorded by {row.recorded_by} at {row.recorded_at:%Y-%m-%d %H:%M} UTC). "
        "Every node of a site needs the same SECRET_KEY, or logins and preview links made on "
        f"one node fail on the others. {where} If you changed the key on purpose, put the old "
        "key in SECRET_KEY_FALLBACKS until every node runs the new one, or run "
        "`python manage.py adopt_secret_key` with the new key to make it the site's key "
        '(docs/configuration.md, "Several nodes").'
    )


def _this_node() -> dict:
    return {
        "fingerprint": fingerprint(settings.SECRET_KEY),
        "recorded_at": timezone.now(),
        "recorded_by": f"{socket.gethostname()} (pid {os.getpid()})"[:200],
    }
