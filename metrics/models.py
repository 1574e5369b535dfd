"""Derived data: segment memberships, conversions and the rollups dashboards read.

Nothing here is written by request handlers: django-q2 tasks and management commands fill it
from raw `delivery.Event` rows (see metrics/memberships.py, conversions.py, rollups.py).
"""

from django.db import models

from anonmsg.commit_order import CurrentTransactionId
from anonmsg.models import Workspace
from campaigns.models import AnonymousMessage, GoalTrigger, Segment
from delivery.models import Profile, Visitor


class SegmentMembershipQuerySet(models.QuerySet):
    def current(self):
        return self.filter(left_at__isnull=True)


class SegmentMembership(models.Model):
    """One stay of a profile in a segment: when it entered, and when it left (null: still in).

    The rows are both the history (goals ask "entered/left within the window") and the current
    membership (the open row). A profile that leaves and comes back gets a second row.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="memberships")
    profile = models.ForeignKey(
        Profile, on_delete=models.CASCADE, related_name="segment_memberships"
    )
    entered_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)

    objects = SegmentMembershipQuerySet.as_manager()

    class Meta:
        ordering = ["-entered_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["segment", "profile"],
                condition=models.Q(left_at__isnull=True),
                name="one_open_segment_membership",
            )
        ]
        indexes = [models.Index(fields=["profile", "segment"], name="membership_profile_segment")]

    def __str__(self):
        return f"{self.profile_id} in {self.segment_id}"


class Conversion(models.Model):
    """A profile met a message's goal. At most one per (message, profile)."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(
        AnonymousMessage, on_delete=models.CASCADE, related_name="conversions"
    )
    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="conversions")
    trigger = models.CharField(max_length=10, choices=GoalTrigger.choices)
    triggered_at = models.DateTimeField()
    # The raw event and anonymous id of the trigger. Not a foreign key: raw events may be
    # deleted by retention, the conversion stays.
    trigger_event_id = models.BigIntegerField(null=True, blank=True)
    anonymous_id = models.CharField(max_length=255)
    identified_at = models.DateTimeField()
    condition_met_at = models.DateTimeField(null=True, blank=True)
    # When the last requirement was met (identified, and the condition if any): the time the
    # rollups count it at.
    converted_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    # The inserting transaction (PostgreSQL; NULL on SQLite): the rollups read conversions in
    # commit order by it (anonmsg/commit_order.py).
    transaction_id = models.BigIntegerField(
        null=True, blank=True, editable=False, db_default=CurrentTransactionId()
    )

    class Meta:
        ordering = ["-converted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "profile"], name="one_conversion_per_profile"
            )
        ]
        indexes = [
            models.Index(fields=["message", "converted_at"], name="conversion_message_time"),
            models.Index(fields=["transaction_id", "id"], name="conversion_transaction"),
        ]

    def __str__(self):
        return f"{self.profile_id} converted on {self.message_id}"


class MessageHourlyStats(models.Model):
    """Counts of one message's events during one UTC hour. Rows with all zeros are not kept."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(
        AnonymousMessage, on_delete=models.CASCADE, related_name="hourly_stats"
    )
    hour = models.DateTimeField(help_text="Start of the UTC hour.")
    views = models.PositiveIntegerField(default=0)
    unique_viewers = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    clicks_by_action = models.JSONField(default=dict, blank=True)
    dismissals = models.PositiveIntegerField(default=0)
    conversions = models.PositiveIntegerField(default=0)
    # The ids of the visitors who viewed it this hour, a serialised roaring bitmap
    # (metrics/viewer_sets.py): unique viewers of a range are unions of these and of the days'.
    viewer_set = models.BinaryField(default=b"")

    class Meta:
        ordering = ["message", "hour"]
        verbose_name_plural = "message hourly stats"
        constraints = [
            models.UniqueConstraint(fields=["message", "hour"], name="one_stats_row_per_hour")
        ]
        indexes = [models.Index(fields=["workspace", "message"], name="stats_workspace_message")]

    def __str__(self):
        return f"{self.message_id} @ {self.hour:%Y-%m-%d %H:00}"

    COUNTERS = (
        "views",
        "unique_viewers",
        "clicks",
        "clicks_by_action",
        "dismissals",
        "conversions",
        "viewer_set",
    )

    def counters(self) -> dict:
        values = {name: getattr(self, name) for name in self.COUNTERS}
        values["viewer_set"] = bytes(values["viewer_set"])
        return values


class MessageViewerDay(models.Model):
    """The visitors who viewed a message during one UTC day: the union of its hours' viewer
    sets, so that a 30-day range unions 30 bitmaps rather than 720 (docs/metrics.md)."""

    message = models.ForeignKey(AnonymousMessage, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    viewer_count = models.PositiveIntegerField(default=0)
    viewer_set = models.BinaryField(default=b"")

    class Meta:
        ordering = ["message", "day"]
        constraints = [
            models.UniqueConstraint(fields=["message", "day"], name="one_viewer_row_per_day")
        ]

    def __str__(self):
        return f"{self.viewer_count} viewers of {self.message_id} on {self.day}"


class RollupState(models.Model):
    """How far the rollup job has counted (metrics/new_rows.py).

    On SQLite, every raw message event and conversion whose id is below the position is
    counted. On PostgreSQL, `progress` holds, per table, the snapshot whose visible rows are
    counted (and the one a run is counting towards); the position is that snapshot's xmin,
    shown for operators (every row of an older transaction is counted).
    """

    name = models.CharField(max_length=50, unique=True)
    event_position = models.BigIntegerField(default=0)
    conversion_position = models.BigIntegerField(default=0)
    progress = models.JSONField(default=dict, blank=True)
    ran_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return (
            f"{self.name}: events < {self.event_position}, conversions < {self.conversion_position}"
        )


class MessageStatsVersion(models.Model):
    """Changes (a new random token) whenever the rollup job or a rebuild writes any of a
    message's rollup rows: reports cached under it can never be stale, and need no
    invalidation (metrics/summary.py). Random rather than a counter, so that a database
    restored from a backup cannot meet cached reports of its future."""

    message = models.OneToOneField(
        AnonymousMessage, on_delete=models.CASCADE, primary_key=True, related_name="stats_version"
    )
    token = models.CharField(max_length=32)

    def __str__(self):
        return f"{self.message_id}: {self.token}"


class ExperimentExposure(models.Model):
    """A visitor's first exposure to a message's experiment: the first view tagged with a
    variant, or the first `held_out` report (arm "holdout"). Filled by the rollup job
    (metrics/experiment_rollup.py); exposure-based conversion joins it to the visitor."""

    message = models.ForeignKey(AnonymousMessage, on_delete=models.CASCADE, related_name="+")
    # Not enforced: retention deletes never-identified visitors, their exposure stays counted.
    visitor = models.ForeignKey(
        Visitor, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    arm = models.CharField(max_length=7)  # "A"–"D" | "holdout"
    exposed_at = models.DateTimeField()
    # The visitor's identification, copied when the exposure is recorded and whenever the
    # visitor is identified later (metrics/experiment_rollup.py), so that exposure-based
    # conversions are counted without joining every exposure to its visitor.
    identified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "visitor"], name="one_exposure_per_visitor")
        ]
        indexes = [
            models.Index(fields=["visitor"], name="exposure_visitor"),
            models.Index(
                fields=["message", "arm"],
                name="exposure_identified",
                condition=models.Q(identified_at__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.visitor_id} in {self.arm} of {self.message_id}"


class ExperimentArmHour(models.Model):
    """Views, clicks and dismissals tagged with one arm of a message's experiment during one
    UTC hour (added to by the rollup job, like MessageHourlyStats)."""

    message = models.ForeignKey(AnonymousMessage, on_delete=models.CASCADE, related_name="+")
    arm = models.CharField(max_length=7)
    hour = models.DateTimeField(help_text="Start of the UTC hour.")
    views = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    clicks_by_action = models.JSONField(default=dict, blank=True)
    dismissals = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["message", "arm", "hour"]
        constraints = [
            models.UniqueConstraint(fields=["message", "arm", "hour"], name="one_arm_row_per_hour")
        ]

    def __str__(self):
        return f"{self.message_id} {self.arm} @ {self.hour:%Y-%m-%d %H:00}"
