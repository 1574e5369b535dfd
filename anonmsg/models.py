import zoneinfo
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F
from django.dispatch import Signal
from django.utils import timezone

from anonmsg import keys
from anonmsg.invitation_steps import invitation_state


@cache
def _time_zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in _time_zone_names():
        raise ValidationError(f"{value!r} is not a known time zone (e.g. Europe/Paris, UTC).")


class Plan(models.TextChoices):
    FREE = "free", "Free"
    PREMIUM = "premium", "Premium"
    ENTERPRISE = "enterprise", "Enterprise"


# Sent after `bump_content_version()` with the workspaces' queryset: caches of what the
# workspaces deliver listen (delivery/invalidation.py).
content_version_bumped = Signal()
# Sent after `Workspace.rotate_write_key()` with `old_write_key`: caches of write keys listen.
write_key_rotated = Signal()


# The plans that include anonymous messages (DESIGN.md: free workspaces get the upgrade page).
ANONYMOUS_MESSAGE_PLANS = frozenset({Plan.PREMIUM, Plan.ENTERPRISE})


class WorkspaceQuerySet(models.QuerySet):
    def bump_content_version(self) -> int:
        """Invalidate delivery's caches of these workspaces' live messages (one UPDATE)."""
        updated = self.update(content_version=F("content_version") + 1)
        content_version_bumped.send(sender=Workspace, queryset=self)
        return updated

    def for_user(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user)


class Workspace(models.Model):
    """The tenant. Every other object belongs to exactly one workspace."""

    name = models.CharField(max_length=100)
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.FREE)
    inapp_enabled = models.BooleanField("in-app messages enabled", default=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    allowed_origins = models.TextField(
        blank=True,
        help_text="One origin per line (https://www.example.com). Used for previews and docs.",
    )
    write_key = models.CharField(
        max_length=64, unique=True, default=keys.new_write_key, editable=False
    )
    api_key_hash = models.CharField(max_length=64, unique=True, null=True, editable=False)
    api_key_hint = models.CharField(max_length=12, blank=True, editable=False)
    # Bumped whenever any of the workspace's messages (or rules) change; delivery caches on it.
    content_version = models.PositiveBigIntegerField(default=1, editable=False)
    sdk_last_seen_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name

    @property
    def has_anonymous_messages(self) -> bool:
        return self.plan in ANONYMOUS_MESSAGE_PLANS

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def origins(self) -> list[str]:
        return [line.strip() for line in self.allowed_origins.splitlines() if line.strip()]

    def rotate_api_key(self) -> str:
        """Replace the App API key; returns the new secret, which is never stored."""
        secret = keys.new_api_key()
        self.api_key_hash = keys.hash_api_key(secret)
        self.api_key_hint = secret[:7]
        self.save(update_fields=["api_key_hash", "api_key_hint"])
        return secret

    def rotate_write_key(self) -> str:
        """Replace the public write key (e.g. after abuse); returns the old one, which stops
        working (tracking's per-process cache may accept it for up to a minute)."""
        old = self.write_key
        self.write_key = keys.new_write_key()
        self.save(update_fields=["write_key"])
        write_key_rotated.send(sender=Workspace, workspace=self, old_write_key=old)
        return old

    def bump_content_version(self) -> None:
        Workspace.objects.filter(pk=self.pk).bump_content_version()

    def local_now(self):
        return timezone.now().astimezone(self.tz)


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "workspace"], name="unique_membership")
        ]

    def __str__(self):
        return f"{self.user} in {self.workspace} ({self.role})"

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


# auth.User's username column; usernames are e-mail addresses here.
MAX_EMAIL_LENGTH = 150


class InvitationQuerySet(models.QuerySet):
    def open(self):
        """Neither accepted nor revoked (possibly expired): at most one per address."""
        return self.filter(accepted_at=None, revoked_at=None)

    def pending(self, now=None):
        """Open and not yet expired: the link still works."""
        return self.open().filter(expires_at__gt=now or timezone.now())


class Invitation(models.Model):
    """An invitation to join a workspace, sent to an e-mail address.

    The link carries a random token; only its SHA-256 is stored, so neither the database nor
    the admin can give the link out again. The invitee accepts as the account whose e-mail is
    the invited address, or creates that account with a password of their own.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    # Lower-case, like user names.
    email = models.CharField("e-mail", max_length=MAX_EMAIL_LENGTH)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Also set when a newer invitation to the same address replaced this one.
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "email"],
                condition=models.Q(accepted_at=None, revoked_at=None),
                name="one_open_invitation_per_address",
            )
        ]

    def __str__(self):
        return f"{self.email} to {self.workspace} ({self.role})"

    def state(self, now=None) -> str:
        return invitation_state(
            accepted_at=self.accepted_at,
            revoked_at=self.revoked_at,
            expires_at=self.expires_at,
            now=now or timezone.now(),
        )


class SecretKeyFingerprint(models.Model):
    """A fingerprint of the SECRET_KEY every node of this database signs with (an HMAC, never
    the key): one row, compared by each web and worker process when it starts
    (anonmsg/shared_secret_key.py)."""

    fingerprint = models.CharField(max_length=64)
    recorded_at = models.DateTimeField()
    # The host and process that recorded it, for the error message of a node that differs.
    recorded_by = models.CharField(max_length=200)

    def __str__(self):
        return f"SECRET_KEY fingerprint recorded by {self.recorded_by} at {self.recorded_at}"
