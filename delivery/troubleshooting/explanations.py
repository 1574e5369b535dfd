"""A delivery decision said in plain words, for the "Debug a visitor" panel.

Pure: the eligibility `Decision`, what the visitor did with the message (`MessageState`), the
message that holds its slot (for `display_slot_taken`) and the workspace's time zone in; one
sentence out. Dates are shown in the workspace's zone, as everywhere in the dashboard.
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from delivery.sdk_api import eligibility as e
from delivery.troubleshooting.outranking import describe_slot

# Short labels for the reason codes (a column of the debugger's table).
LABELS = {
    e.ELIGIBLE: "Shown",
    e.PLAN: "Plan",
    e.INAPP_DISABLED: "In-app off",
    e.IDENTIFIED: "Identified",
    e.DRAFT: "Draft",
    e.ARCHIVED: "Archived",
    e.ENDED: "Ended",
    e.PAUSED: "Paused",
    e.NOT_STARTED: "Schedule",
    e.PAGE_RULE: "Page rule",
    e.AUDIENCE: "Audience",
    e.FREQUENCY_DISMISSED: "Frequency",
    e.FREQUENCY_RESPONDED: "Frequency",
    e.FREQUENCY_MAX_VIEWS: "Frequency",
    e.MIN_INTERVAL: "Frequency",
    e.DISPLAY_SLOT_TAKEN: "Slot taken",
}


@dataclass(frozen=True)
class Explanation:
    message_id: int
    message_name: str
    reason: str  # the eligibility code
    label: str
    text: str
    holder_id: int | None = None  # the message in its slot, for `display_slot_taken`

    @property
    def shown(self) -> bool:
        return self.reason == e.ELIGIBLE


def explain(
    decision: e.Decision,
    *,
    state: e.MessageState = e.NO_STATE,
    holder: e.LiveMessage | None = None,
    time_zone: str = "UTC",
) -> Explanation:
    message = decision.message
    text = _text(decision, state=state, holder=holder, tz=ZoneInfo(time_zone))
    return Explanation(
        message_id=message.id,
        message_name=message.name,
        reason=decision.reason,
        label=LABELS.get(decision.reason, decision.reason),
        text=text,
        holder_id=holder.id if holder is not None else None,
    )


def explain_all(decisions, *, states, time_zone: str = "UTC") -> list[Explanation]:
    """Every decision explained, in delivery order."""
    return [
        explain(
            decision,
            state=states.get(decision.message.id, e.NO_STATE),
            holder=decision.holder,
            time_zone=time_zone,
        )
        for decision in decisions
    ]


def _when(moment: datetime | None, tz: ZoneInfo) -> str:
    return f"{moment.astimezone(tz):%b %-d, %Y, %H:%M}" if moment else "an unknown time"


def _views(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


def _text(decision, *, state, holder, tz) -> str:
    message, reason = decision.message, decision.reason
    match reason:
        case e.ELIGIBLE:
            payload = message.payload or {}
            if payload.get("holdout"):  # the visitor's arm of an experiment (eligibility)
                return (
                    f"Held out by its experiment: nothing is shown, and its place "
                    f"({describe_slot(message)}) stays empty so the arms compare fairly."
                )
            seen = f" (viewed {_views(state.views)} so far)" if state.views else ""
            variant = f" as variant {payload['variant']}" if payload.get("variant") else ""
            waits = (
                f" It shows on its trigger ({message.trigger['type'].replace('_', ' ')}), "
                "once no other message is in its place."
                if message.waits
                else ""
            )
            return f"Delivered{variant} here ({describe_slot(message)}){seen}.{waits}"
        case e.PLAN:
            return "The workspace's plan does not include anonymous messages."
        case e.INAPP_DISABLED:
            return "In-app messages are switched off for this workspace (Settings → In-app)."
        case e.IDENTIFIED:
            return (
                "This visitor is identified (signed up or logged in): anonymous messages are "
                "never shown to identified people."
            )
        case e.PAGE_RULE:
            return f"Its page rules leave this page out. {decision.detail}".strip()
        case e.AUDIENCE:
            # “Only for visitors on a phone; this visit is on a desktop.”
            return decision.detail or "Its audience conditions leave this visit out."
        case e.FREQUENCY_DISMISSED:
            return (
                f"Dismissed by this visitor on {_when(state.dismissed_at, tz)}: a dismissal "
                "stops it."
            )
        case e.FREQUENCY_RESPONDED:
            return (
                f"This visitor clicked one of its tracked actions on "
                f"{_when(state.responded_at, tz)}: “until dismissed” stops after a click."
            )
        case e.FREQUENCY_MAX_VIEWS:
            return (
                f"Viewed {_views(state.views)}, the most it shows to one visitor "
                f"({message.frequency_times})."
            )
        case e.MIN_INTERVAL:
            return (
                f"Last viewed on {_when(state.last_viewed_at, tz)}; it waits "
                f"{message.min_interval_seconds} s between two views."
            )
        case e.DISPLAY_SLOT_TAKEN:
            if holder is None:
                return f"Another message takes the same place ({describe_slot(message)}) first."
            if holder.waits:  # the slot is full of messages waiting for their triggers
                return (
                    f"Its place ({describe_slot(message)}) is full: “{holder.name}” and the "
                    f"messages before it wait there for their triggers, and an answer carries "
                    f"at most {e.MESSAGES_PER_SLOT} messages per place."
                )
            return (
                f"Slot taken by “{holder.name}”: same place ({describe_slot(message)}), and it "
                f"goes first (priority {holder.priority}"
                + (
                    f", this one {message.priority})."
                    if holder.priority != message.priority
                    else ", the same as this one, and it is older)."
                )
            )
    # Draft, archived, ended, paused, not started: eligibility's own sentence says when.
    return decision.detail or reason
