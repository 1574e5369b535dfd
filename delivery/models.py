from django.db import models

from anonmsg.commit_order import CurrentTransactionId
from anonmsg.models import Workspace
from campaigns.models import AnonymousMessage
from delivery.identifier_field import IdentifierField


class ProfileQuerySet(models.QuerySet):
    def people(self):
        """Profiles shown as people: not folded into another profile by an alias."""
        return self.filter(merged_into__isnull=True)


class Profile(models.Model):
    """An identified person (workspace + userId). Anonymous visitors merge into it."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="profiles")
    user_id = IdentifierField(max_length=255)
    email = models.CharField(max_length=255, blank=True)
    traits = models.JSONField(default=dict, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    # Set when an `alias` folded this profile into another one: the other one is the person,
    # this row only remembers the old userId (its events keep that userId).
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_profiles"
    )

    objects = ProfileQuerySet.as_manager()

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user_id"], name="unique_profile_user_id")
        ]

    def __str__(self):
        return self.user_id

    @property
    def display_name(self) -> str:
        name = self.traits.get("name") if isinstance(self.traits, dict) else None
        if not name and isinstance(self.traits, dict):
            parts = [self.traits.get("firstName"), self.traits.get("lastName")]
            name = " ".join(str(part) for part in parts if part)
        return str(name) if name else self.email or self.user_id


class Visitor(models.Model):
    """One anonymous ID as an SDK generated it. Becomes identified when merged into a profile."""

    workspace = models.ForeignKey(
        Workspace,
        on_delete=models.CASCADE,
        related_name="visitors",
        db_index=False,  # unique_visitor_anonymous_id starts with it
    )
    anonymous_id = IdentifierField(max_length=255)
    profile = models.ForeignKey(
        Profile, null=True, blank=True, on_delete=models.SET_NULL, related_name="visitors"
    )
    identified_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    user_agent = models.CharField(max_length=500, blank=True)
    last_page = models.CharField(max_length=2000, blank=True)

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "anonymous_id"], name="unique_visitor_anonymous_id"
            )
        ]
        indexes = [
            # Anonymous visitors only, as its readers ask (the latest visitors to debug with,
            # retention). So the tracking statement's visitor lookup, which names no profile,
            # cannot take it for a scan of the workspace's every visitor when statistics are
            # thin (migration 0010): the unique index is its only way in.
            models.Index(
                fields=["workspace", "last_seen_at"],
                name="anon_visitor_ws_last_seen",
                condition=models.Q(profile__isnull=True),
            )
        ]

    def __str__(self):
        return self.anonymous_id

    @property
    def is_identified(self) -> bool:
        return self.profile_id is not None


class EventType(models.TextChoices):
    TRACK = "track", "Track"
    PAGE = "page", "Page"
    SCREEN = "screen", "Screen"
    IDENTIFY = "identify", "Identify"
    ALIAS = "alias", "Alias"
    GROUP = "group", "Group"


class Event(models.Model):
    """A raw tracking call, append-only, with its original payload.

    A few fields are copied out of the payload into columns so that the activity log, rollups
    and attribution can filter on indexes: the message-event fields (content_id, action_type,
    action_name) are set only for `Report Content Event` tracks.

    On PostgreSQL the table is partitioned by day of `received_at` (delivery/partitions.py),
    its primary key is (id, received_at), and `messageId` deduplication lives in
    `EventMessageId`: a partitioned table cannot hold a unique key on (workspace, message_id).
    The hot table has no foreign key (a per-row check on every insert): deleting a workspace
    deletes its events through Django, as before.
    """

    workspace = models.ForeignKey(
        Workspace,
        on_delete=models.CASCADE,
        related_name="events",
        db_constraint=False,
        db_index=False,  # event_ws_time starts with it
    )
    message_id = IdentifierField(max_length=255)
    type = models.CharField(max_length=10, choices=EventType.choices)
    name = models.CharField(max_length=255, blank=True)
    anonymous_id = IdentifierField(max_length=255, blank=True)
    user_id = IdentifierField(max_length=255, blank=True)
    timestamp = models.DateTimeField(help_text="When it happened, corrected for client clock skew.")
    received_at = models.DateTimeField()
    content_id = models.BigIntegerField(null=True, blank=True)
    action_type = models.CharField(max_length=30, blank=True)
    action_name = models.CharField(max_length=255, blank=True)
    payload = models.JSONField()
    # The inserting transaction (PostgreSQL; NULL on SQLite): the rollups read message events
    # in commit order by it (anonmsg/commit_order.py).
    transaction_id = models.BigIntegerField(
        null=True, blank=True, editable=False, db_default=CurrentTransactionId()
    )

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [
            models.Index(fields=["workspace", "-timestamp"], name="event_ws_time"),
            models.Index(
                fields=["workspace", "anonymous_id", "-timestamp"], name="event_ws_anon_time"
            ),
            # Only events with a userId: anonymous ones, most of the traffic, are never looked
            # up by userId (activity filter, a person's timeline, goal events: all name one).
            models.Index(
                fields=["workspace", "user_id", "-timestamp"],
                name="event_ws_user_time",
                condition=~models.Q(user_id=""),
            ),
            models.Index(
                fields=["content_id", "timestamp"],
                name="event_content_time",
                condition=models.Q(content_id__isnull=False),
            ),
            models.Index(
                fields=["transaction_id", "id"],
                name="event_message_transaction",
                condition=models.Q(content_id__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.type} {self.name}".strip()


class EventMessageId(models.Model):
    """The messageIds already stored, for deduplication (delivery/tracking/message_ids.py).

    Kept in rotating weekly generations (0, 1, 2): an id is checked against the current and
    the previous generation, so it is remembered for 7 to 14 days, and the generation that is
    neither is emptied at once (TRUNCATE of its partition on PostgreSQL) instead of deleted
    row by row.
    """

    pk = models.CompositePrimaryKey("generation", "workspace", "message_id")
    generation = models.PositiveSmallIntegerField()
    workspace = models.ForeignKey(
        Workspace,
        on_delete=models.DO_NOTHING,  # rotated away within two weeks anyway
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    message_id = IdentifierField(max_length=255)

    def __str__(self):
        return self.message_id


class VisitorMessageState(models.Model):
    """What one anonymous visitor has done with one message: what delivery's frequency reads."""

    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="message_states")
    message = models.ForeignKey(
        AnonymousMessage, on_delete=models.CASCADE, related_name="visitor_states"
    )
    views = models.PositiveIntegerField(default=0)
    first_viewed_at = models.DateTimeField(null=True, blank=True)
    last_viewed_at = models.DateTimeField(null=True, blank=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    # Clicked one of the message's tracked actions.
    responded_at = models.DateTimeField(null=True, blank=True)
    # In an experiment: the arm (A–D, or "holdout") of the visitor's first exposure, their
    # earliest tagged view or held-out report, and its time (delivery.first_exposure: the
    # rule metrics' ExperimentExposure keeps too), so one exposure per visitor and message.
    arm = models.CharField(max_length=7, blank=True, default="", db_default="")
    exposed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["visitor", "message"], name="unique_visitor_message_state"
            )
        ]

    def __str__(self):
        return f"{self.visitor} × {self.message_id}"
