"""What the Activity log and People pages read: filters, a person's events, keyset pages.

Every function takes an already workspace-scoped queryset or a workspace; nothing here can
reach another workspace's rows.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django import forms
from django.db.models import Count, Q, QuerySet

from anonmsg.dates import validate_supported_date
from delivery.identifier_field import SearchableText
from delivery.models import Event, EventType, Profile

PAGE_SIZE = 50


class ActivityFilterForm(forms.Form):
    message = forms.TypedChoiceField(label="Message", required=False, coerce=int, empty_value=None)
    anonymous_id = forms.CharField(label="Anonymous ID", required=False, max_length=255)
    user_id = forms.CharField(label="User ID", required=False, max_length=255)
    type = forms.ChoiceField(
        label="Type", required=False, choices=[("", "All types"), *EventType.choices]
    )
    name = forms.CharField(label="Event name", required=False, max_length=255)
    date_from = forms.DateField(
        label="From",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_supported_date],
    )
    date_to = forms.DateField(
        label="To",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[validate_supported_date],
    )

    def __init__(self, *args, messages=(), **kwargs):
        """`messages`: (id, name) of the workspace's messages, for the message filter."""
        super().__init__(*args, **kwargs)
        self.fields["message"].choices = [("", "All messages"), *messages]
        for name in ("anonymous_id", "user_id", "name"):
            self.fields[name].widget.attrs["type"] = "search"
        self.fields["name"].widget.attrs["placeholder"] = "e.g. Signed Up"

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    @property
    def is_filtering(self) -> bool:
        return self.is_valid() and any(self.cleaned_data.values())


def filter_events(events: QuerySet, data: dict, *, tz) -> QuerySet:
    """Apply the activity filters (cleaned form data); dates are days in the workspace's zone."""
    if data.get("message"):
        events = events.filter(content_id=data["message"])
    if data.get("anonymous_id"):
        events = events.filter(anonymous_id=data["anonymous_id"].strip())
    if data.get("user_id"):
        events = events.filter(user_id=data["user_id"].strip())
    if data.get("type"):
        events = events.filter(type=data["type"])
    if data.get("name"):
        events = events.filter(name__iexact=data["name"].strip())
    if data.get("date_from"):
        events = events.filter(timestamp__gte=datetime.combine(data["date_from"], time(), tz))
    if data.get("date_to"):
        end = datetime.combine(data["date_to"] + timedelta(days=1), time(), tz)
        events = events.filter(timestamp__lt=end)
    return events


def person_identities(profile: Profile) -> tuple[list[str], list[str]]:
    """(user ids, anonymous ids) whose events are this person's activity."""
    user_ids = [profile.user_id, *profile.merged_profiles.values_list("user_id", flat=True)]
    anonymous_ids = list(profile.visitors.values_list("anonymous_id", flat=True))
    return user_ids, anonymous_ids


def person_events(profile: Profile) -> QuerySet:
    """Everything this person did, including what they did anonymously before a merge."""
    user_ids, anonymous_ids = person_identities(profile)
    return Event.objects.filter(workspace_id=profile.workspace_id).filter(
        Q(user_id__in=user_ids) | Q(anonymous_id__in=anonymous_ids)
    )


def identified_people(workspace, *, search: str = "") -> QuerySet:
    profiles = Profile.objects.people().filter(workspace=workspace)
    if search:
        profiles = profiles.annotate(searchable_user_id=SearchableText("user_id")).filter(
            Q(searchable_user_id__icontains=search) | Q(email__icontains=search)
        )
    return profiles.annotate(anonymous_ids=Count("visitors")).order_by("-last_seen_at", "-id")


MESSAGE_ACTIONS = {
    "viewed_content": "Viewed",
    "clicked_content": "Clicked",
    "dismissed_content": "Dismissed",
    "held_out": "Held out of",
}
NAME_LENGTH = 40


def _shorten(text: str, length: int = NAME_LENGTH) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def describe_event(event: Event, *, message_name: str = "") -> tuple[str, str]:
    """(headline, detail): what an event says in words, for the activity tables.

    "Viewed ‘Pricing: 20% off…’" (detail: the SDK's event name), "Visited /pricing" (detail:
    the page's name), "Identified as ann@example.com" (detail: the traits sent), …
    """
    payload = _dict(event.payload)
    properties = _dict(payload.get("properties"))
    if event.action_type:
        verb = MESSAGE_ACTIONS.get(event.action_type) or event.action_type.replace("_", " ")
        target = f"‘{_shorten(message_name)}’" if message_name else f"message #{event.content_id}"
        detail = [f"action “{event.action_name}”"] if event.action_name else []
        return f"{verb} {target}", " · ".join([*detail, event.name] if event.name else detail)
    if event.type == EventType.PAGE:
        page = _dict(_dict(payload.get("context")).get("page"))
        path = next(
            (
                value
                for value in (properties.get("path"), page.get("path"), properties.get("url"))
                if isinstance(value, str) and value
            ),
            "",
        )
        if path:
            return f"Visited {path}", event.name
        return f"Visited {event.name or 'a page'}", ""
    if event.type == EventType.SCREEN:
        return f"Opened {event.name or 'a screen'}", ""
    if event.type == EventType.IDENTIFY:
        traits = _dict(payload.get("traits"))
        detail = "traits: " + ", ".join(sorted(traits)[:6]) if traits else ""
        return f"Identified as {event.user_id}", detail
    if event.type == EventType.ALIAS:
        return f"Linked {payload.get('previousId', '')} → {event.user_id}", ""
    if event.type == EventType.GROUP:
        return f"Joined group {payload.get('groupId', '')}".rstrip(), ""
    detail = ", ".join(sorted(properties)[:6])
    return event.name or "—", f"properties: {detail}" if detail else ""


def describe_delay(delay: timedelta) -> str:
    """'4 s', '3 min', '2 h', '5 days'; empty under a second."""
    seconds = delay.total_seconds()
    if seconds < 1:
        return ""
    for unit, size in (("days", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


@dataclass
class EventPage:
    """One page of events, newest first, with cursors to its neighbours (keyset pagination:
    no COUNT over the whole table, stable while new events arrive)."""

    events: list
    newer: str | None
    older: str | None


def _cursor(event: Event) -> str:
    return f"{event.timestamp.isoformat()}_{event.pk}"


def _parse_cursor(value: str | None):
    if not value:
        return None
    stamp, _, pk = value.rpartition("_")
    try:
        moment, pk = datetime.fromisoformat(stamp), int(pk)
    except ValueError:
        return None
    # A hand-made cursor near year 1 or 9999 would overflow when the database moves it to UTC:
    # ignore it (the newest page) rather than answer 500.
    return (moment, pk) if 2 <= moment.year <= 9998 else None


def event_page(events: QuerySet, *, before: str | None, after: str | None) -> EventPage:
    """The page of `events` just older than `before`, or just newer than `after`, or the newest."""
    newer_than = _parse_cursor(after)
    older_than = None if newer_than else _parse_cursor(before)
    if newer_than:
        stamp, pk = newer_than
        rows = list(
            events.filter(Q(timestamp__gt=stamp) | Q(timestamp=stamp, pk__gt=pk)).order_by(
                "timestamp", "pk"
            )[: PAGE_SIZE + 1]
        )
        has_newer = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE][::-1]
        has_older = True
    else:
        if older_than:
            stamp, pk = older_than
            events = events.filter(Q(timestamp__lt=stamp) | Q(timestamp=stamp, pk__lt=pk))
        rows = list(events.order_by("-timestamp", "-pk")[: PAGE_SIZE + 1])
        has_older = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        has_newer = older_than is not None
    return EventPage(
        events=rows,
        newer=_cursor(rows[0]) if rows and has_newer else None,
        older=_cursor(rows[-1]) if rows and has_older else None,
    )
