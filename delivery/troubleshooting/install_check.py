"""Has the snippet been heard from? The latest event of a workspace, and where it came from.

Reads the events table through its (workspace, -timestamp) index: one row, however many events
the workspace has. A "Test my installation" waits for an event *received* after it started;
the timestamp bound (events are never stamped later than received) keeps that on the index.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from delivery.models import Event, EventType

# An SDK may send events queued before the test started (stamped earlier, received now).
QUEUED_FOR_AT_MOST = timedelta(days=1)


@dataclass(frozen=True)
class Sighting:
    at: datetime  # received
    type: str
    name: str
    location: str  # the page URL or app screen, "" when the event names none
    user_agent: str

    @property
    def host(self) -> str:
        return urlsplit(self.location).netloc if "://" in self.location else ""


def last_sighting(workspace, *, since: datetime | None = None) -> Sighting | None:
    """The latest event of the workspace (received at or after `since`, if given)."""
    events = Event.objects.filter(workspace=workspace)
    if since is not None:
        events = events.filter(timestamp__gte=since - QUEUED_FOR_AT_MOST, received_at__gte=since)
    event = events.order_by("-timestamp").only("type", "name", "received_at", "payload").first()
    if event is None:
        return None
    return Sighting(
        at=event.received_at,
        type=event.type,
        name=event.name,
        location=event_location(event.type, event.name, event.payload),
        user_agent=_user_agent(event.payload),
    )


def event_location(event_type: str, name: str, payload) -> str:
    """Where an event was sent from: the page URL (or path), or the app screen's name."""
    if event_type == EventType.SCREEN:
        return name
    payload = payload if isinstance(payload, dict) else {}
    context = payload.get("context") if isinstance(payload.get("context"), dict) else {}
    sources = (payload.get("properties"), context.get("page"))
    for key in ("url", "path"):
        for source in sources:
            if isinstance(source, dict) and isinstance(source.get(key), str) and source[key]:
                return source[key][:2000]
    return ""


def _user_agent(payload) -> str:
    context = payload.get("context") if isinstance(payload, dict) else None
    agent = context.get("userAgent") if isinstance(context, dict) else None
    return agent[:300] if isinstance(agent, str) else ""
