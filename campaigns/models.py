from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from anonmsg.models import Workspace
from campaigns import audience, content, rules, triggers


class Platform(models.TextChoices):
    WEB = "web", "Web"
    IOS = "ios", "iOS"
    ANDROID = "android", "Android"


class Operator(models.TextChoices):
    IS = "is", "is"
    IS_NOT = "is_not", "is not"
    CONTAINS = "contains", "contains"
    NOT_CONTAINS = "not_contains", "does not contain"
    STARTS_WITH = "starts_with", "starts with"
    ENDS_WITH = "ends_with", "ends with"
    MATCHES = "matches", "matches (wildcard *)"
    REGEX = "regex", "matches regex"


class FrequencyMode(models.TextChoices):
    UNTIL_DISMISSED = "until_dismissed", "Until dismissed"
    TIMES = "times", "Up to N times"
    ALWAYS = "always", "Show always"


class GoalTrigger(models.TextChoices):
    CLICK = "click", "Clicked a tracked action"
    VIEW = "view", "Viewed the message"


class GoalCondition(models.TextChoices):
    NONE = "none", "No extra condition"
    EVENT = "event", "Performed an event"
    SEGMENT_ENTERED = "segment_entered", "Entered a segment"
    SEGMENT_LEFT = "segment_left", "Left a segment"


class DisplayType(models.TextChoices):
    MODAL = "modal", "Modal"
    OVERLAY = "overlay", "Corner overlay"
    BANNER = "banner", "Banner"
    INLINE = "inline", "Inline"


class Position(models.TextChoices):
    CENTER = "center", "Center"
    TOP = "top", "Top"
    BOTTOM = "bottom", "Bottom"
    TOP_LEFT = "top-left", "Top left"
    TOP_RIGHT = "top-right", "Top right"
    BOTTOM_LEFT = "bottom-left", "Bottom left"
    BOTTOM_RIGHT = "bottom-right", "Bottom right"


# Which positions each display type accepts; the first is the default.
POSITIONS_BY_DISPLAY = {
    DisplayType.MODAL: [Position.CENTER, Position.TOP, Position.BOTTOM],
    DisplayType.OVERLAY: [
        Position.BOTTOM_RIGHT,
        Position.BOTTOM_LEFT,
        Position.TOP_RIGHT,
        Position.TOP_LEFT,
    ],
    DisplayType.BANNER: [Position.TOP, Position.BOTTOM],
    DisplayType.INLINE: [],
}


class Status(models.TextChoices):
    """What the marketer did last. The state shown to people is derived (see `state`)."""

    DRAFT = "draft", "Draft"
    LAUNCHED = "launched", "Launched"
    PAUSED = "paused", "Paused"
    ENDED = "ended", "Ended"
    ARCHIVED = "archived", "Archived"


class State(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ENDED = "ended", "Ended"
    ARCHIVED = "archived", "Archived"


def describe_duration(seconds: int) -> str:
    """`90` → "90 seconds", `3600` → "1 hour", `172800` → "2 days" (largest exact unit)."""
    for unit_seconds, name in ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
        if seconds >= unit_seconds and seconds % unit_seconds == 0:
            count = seconds // unit_seconds
            return f"{count} {name}{'' if count == 1 else 's'}"
    return "0 seconds"


def derive_state(*, status: str, starts_at, ends_at, now) -> str:
    """The state marketers see, from the stored status and the schedule (pure)."""
    if status == Status.DRAFT:
        return State.DRAFT
    if status == Status.ARCHIVED:
        return State.ARCHIVED
    if status == Status.ENDED or (ends_at is not None and ends_at <= now):
        return State.ENDED
    if status == Status.PAUSED:
        return State.PAUSED
    if starts_at is not None and starts_at > now:
        return State.SCHEDULED
    return State.ACTIVE


def summarise_for_storage(html: str) -> tuple[list[dict], str]:
    """`content_actions` and `content_label` for this HTML. HTML past the parser's caps
    cannot be saved through a form or the API; if it is in the database anyway (written by
    hand), it is stored with no actions rather than failing the save."""
    try:
        summary = content.summarise_html(html)
    except content.ContentError:
        return [], content.DEFAULT_LABEL
    actions = [{"name": a.name, "label": a.label, "url": a.url} for a in summary.actions]
    return actions, summary.label


class AnonymousMessageQuerySet(models.QuerySet):
    def live(self, now=None):
        """Launched and not ended by its schedule: may be delivered now or later (scheduled)."""
        now = now or timezone.now()
        return self.filter(status=Status.LAUNCHED).exclude(ends_at__lte=now)

    def in_state(self, state: str, now=None):
        now = now or timezone.now()
        q = models.Q
        not_over = q(ends_at__isnull=True) | q(ends_at__gt=now)
        filters = {
            State.DRAFT: q(status=Status.DRAFT),
            State.ARCHIVED: q(status=Status.ARCHIVED),
            State.ENDED: q(status=Status.ENDED)
            | (q(status__in=[Status.LAUNCHED, Status.PAUSED]) & ~not_over),
            State.PAUSED: q(status=Status.PAUSED) & not_over,
            State.SCHEDULED: q(status=Status.LAUNCHED, starts_at__gt=now) & not_over,
            State.ACTIVE: q(status=Status.LAUNCHED)
            & (q(starts_at__isnull=True) | q(starts_at__lte=now))
            & not_over,
        }
        return self.filter(filters[state])


class AnonymousMessage(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="messages")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, max_length=2000)
    priority = models.PositiveIntegerField(default=1, help_text="Lower numbers show first.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    # Highest wizard step the marketer has saved (1-7), to resume the wizard.
    wizard_step = models.PositiveSmallIntegerField(default=1)

    frequency_mode = models.CharField(
        max_length=20, choices=FrequencyMode.choices, default=FrequencyMode.UNTIL_DISMISSED
    )
    frequency_times = models.PositiveIntegerField(default=1)
    min_interval_seconds = models.PositiveIntegerField(default=0)

    goal_trigger = models.CharField(
        max_length=10, choices=GoalTrigger.choices, default=GoalTrigger.CLICK
    )
    goal_window_hours = models.PositiveIntegerField(default=168)
    goal_condition = models.CharField(
        max_length=20, choices=GoalCondition.choices, default=GoalCondition.NONE
    )
    goal_event = models.CharField(max_length=200, blank=True)
    goal_segment = models.ForeignKey(
        "campaigns.Segment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # The HTML that is delivered. `content_builder` keeps the simple builder's fields when the
    # marketer used it (the HTML is then generated from them).
    content_html = models.TextField(blank=True)
    content_builder = models.JSONField(null=True, blank=True)
    # Read from content_html on save (`summarise_content`), so that delivery and the dashboard
    # never parse HTML: the tracked actions [{"name", "label", "url"}] and the label visitors
    # hear (the first heading, else "Message"; never `name`, which only the team sees).
    content_actions = models.JSONField(default=list, blank=True, editable=False)
    content_label = models.CharField(
        max_length=content.MAX_LABEL, default=content.DEFAULT_LABEL, editable=False
    )

    display_type = models.CharField(
        max_length=10, choices=DisplayType.choices, default=DisplayType.MODAL
    )
    display_position = models.CharField(
        max_length=12, choices=Position.choices, default=Position.CENTER
    )
    display_element_id = models.CharField(max_length=200, blank=True)
    close_on_backdrop = models.BooleanField(default=True)

    # When the SDK shows the message once delivery chose it (campaigns/triggers.py), and who
    # may get it (campaigns/audience.py): the App API's shapes (DESIGN.md §5).
    trigger = models.JSONField(default=triggers.default_trigger, blank=True)
    audience = models.JSONField(default=list, blank=True)

    # An experiment (DESIGN.md §5): variant A is this message's own content and display,
    # B–D are `variants`; a holdout share of eligible visitors is shown nothing. Assignment
    # hashes (id, experiment_seed, anonymousId), so it needs no storage.
    variant_a_weight = models.PositiveSmallIntegerField(default=100)
    holdout_percent = models.PositiveSmallIntegerField(default=0)
    experiment_seed = models.CharField(max_length=32, blank=True)
    winner_key = models.CharField(max_length=1, blank=True)
    winner_chosen_at = models.DateTimeField(null=True, blank=True)
    winner_chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)

    launched_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AnonymousMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "status"])]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "content_html" in update_fields:
            self.summarise_content()
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "content_actions", "content_label"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("campaigns:message-detail", args=[self.workspace_id, self.pk])

    def summarise_content(self) -> None:
        """Store what delivery needs from the HTML: every writer saves through here."""
        if getattr(self, "_summarised_html", None) == self.content_html:
            return
        self.content_actions, self.content_label = summarise_for_storage(self.content_html)
        self._summarised_html = self.content_html

    @property
    def tracked_actions(self) -> list[content.Action]:
        return [content.Action(**action) for action in self.content_actions]

    def state_at(self, now) -> str:
        return derive_state(
            status=self.status, starts_at=self.starts_at, ends_at=self.ends_at, now=now
        )

    @property
    def state(self) -> str:
        return self.state_at(timezone.now())

    def get_state_display(self) -> str:
        return State(self.state).label

    @property
    def is_editable(self) -> bool:
        """Ended and archived messages are kept as they ran; duplicate them to run them again."""
        return self.state not in (State.ENDED, State.ARCHIVED)

    def rule_list(self) -> list[rules.Rule]:
        return [rule.as_rule() for rule in self.rules.all()]

    def describe_frequency(self) -> str:
        match self.frequency_mode:
            case FrequencyMode.TIMES:
                times = self.frequency_times
                text = f"Up to {times} time{'' if times == 1 else 's'} per visitor, until dismissed"
            case FrequencyMode.ALWAYS:
                text = "On every matching page, even after it was dismissed"
            case _:
                text = "On every matching page until the visitor dismisses it or clicks an action"
        if self.min_interval_seconds:
            text += f"; at least {describe_duration(self.min_interval_seconds)} between views"
        return text + "."

    def describe_goal(self) -> str:
        trigger = "clicks a tracked action" if self.goal_trigger == GoalTrigger.CLICK else "sees it"
        window = describe_duration(self.goal_window_hours * 3600)
        text = f"A visitor who {trigger} converts by signing up or logging in within {window}"
        match self.goal_condition:
            case GoalCondition.EVENT:
                text += f" and performing the event “{self.goal_event}”"
            case GoalCondition.SEGMENT_ENTERED | GoalCondition.SEGMENT_LEFT:
                verb = (
                    "entering"
                    if self.goal_condition == GoalCondition.SEGMENT_ENTERED
                    else "leaving"
                )
                segment = self.goal_segment.name if self.goal_segment else "(no segment chosen)"
                text += f" and {verb} the segment “{segment}”"
        return text + "."

    def describe_trigger(self) -> str:
        return triggers.describe_trigger(self.trigger)

    def describe_audience(self) -> str:
        return audience.describe_audience(self.audience)

    def describe_display(self) -> str:
        if self.display_type == DisplayType.INLINE:
            return f"Inline, inside the element #{self.display_element_id or '…'}"
        position = Position(self.display_position).label.lower()
        return f"{DisplayType(self.display_type).label}, {position}"


class VariantKey(models.TextChoices):
    B = "B", "Variant B"
    C = "C", "Variant C"
    D = "D", "Variant D"


class MessageVariant(models.Model):
    """Variant B, C or D of a message in an experiment (A is the message itself).

    Its own content; its display fields left blank mean "as variant A"."""

    message = models.ForeignKey(AnonymousMessage, on_delete=models.CASCADE, related_name="variants")
    key = models.CharField(max_length=1, choices=VariantKey.choices)
    weight = models.PositiveSmallIntegerField(default=50)

    content_html = models.TextField(blank=True)
    content_builder = models.JSONField(null=True, blank=True)
    content_actions = models.JSONField(default=list, blank=True, editable=False)
    content_label = models.CharField(
        max_length=content.MAX_LABEL, default=content.DEFAULT_LABEL, editable=False
    )

    display_type = models.CharField(max_length=10, choices=DisplayType.choices, blank=True)
    display_position = models.CharField(max_length=12, choices=Position.choices, blank=True)
    display_element_id = models.CharField(max_length=200, blank=True)
    close_on_backdrop = models.BooleanField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["message", "key"], name="one_variant_per_key")
        ]

    def __str__(self):
        return f"{self.message} — variant {self.key}"

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "content_html" in update_fields:
            self.content_actions, self.content_label = summarise_for_storage(self.content_html)
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "content_actions", "content_label"}
        super().save(*args, **kwargs)


class PageRule(models.Model):
    message = models.ForeignKey(AnonymousMessage, on_delete=models.CASCADE, related_name="rules")
    platform = models.CharField(max_length=10, choices=Platform.choices, default=Platform.WEB)
    operator = models.CharField(max_length=20, choices=Operator.choices, default=Operator.IS)
    value = models.CharField(max_length=500)
    exclude = models.BooleanField(default=False)
    case_sensitive = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        kind = "exclude" if self.exclude else "include"
        return f"{kind} {self.platform} {self.operator} {self.value}"

    def as_rule(self) -> rules.Rule:
        """The plain value `campaigns.rules` matches with."""
        return rules.Rule(
            platform=self.platform,
            operator=self.operator,
            value=self.value,
            exclude=self.exclude,
            case_sensitive=self.case_sensitive,
        )

    def describe(self) -> str:
        """“Show on web pages whose path is “/pricing”” — the rule as a sentence."""
        verb = "Don't show on" if self.exclude else "Show on"
        if self.platform == Platform.WEB:
            where = "web pages whose"
            target = "path" if self.operator in (Operator.IS, Operator.IS_NOT) else "URL"
            if self.operator == Operator.MATCHES and "?" not in self.value:
                target = "path"
            subject = f"{where} {target}"
        else:
            subject = f"{Platform(self.platform).label} screens whose name"
        case = " (case sensitive)" if self.case_sensitive else ""
        operator = rules.operator_phrase(self.operator)
        return f"{verb} {subject} {operator} “{self.value}”{case}"


class SegmentMatch(models.TextChoices):
    ALL = "all", "All conditions"
    ANY = "any", "Any condition"


class SegmentOperator(models.TextChoices):
    EQUALS = "equals", "equals"
    NOT_EQUALS = "not_equals", "does not equal"
    CONTAINS = "contains", "contains"
    EXISTS = "exists", "exists"
    GREATER_THAN = "greater_than", "is greater than"
    LESS_THAN = "less_than", "is less than"


class Segment(models.Model):
    """Named conditions on identified profiles' traits, used by message goals.

    conditions: [{"trait": "plan", "operator": "equals", "value": "pro"}, ...]
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="segments")
    name = models.CharField(max_length=120)
    match = models.CharField(max_length=3, choices=SegmentMatch.choices, default=SegmentMatch.ALL)
    conditions = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name
