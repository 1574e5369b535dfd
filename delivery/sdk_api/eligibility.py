"""Which anonymous messages a visitor gets on a page, and why the others are left out.

Pure: plain values in (the workspace's live messages, the visitor's per-message state and
identity, the page, the time), plain values out (one `Decision` per message, in delivery
order, each with a reason code the dashboard can show). No ORM, no cache, no clock: the
delivery view (`delivery/sdk_api/views.py`) and the dashboard feed it.

Semantics (DESIGN.md §2):

- Workspace gates first: a plan without anonymous messages (`plan`), in-app messages switched
  off (`inapp_disabled`), an identified visitor (`identified`).
- Then the message's own state: `draft`, `archived`, `ended` (stopped, or its end has come),
  `paused`, `not_started` (its start is still ahead). A start equal to now has started; an
  end equal to now has ended.
- Page rules (`campaigns.rules`): `page_rule`.
- Frequency, counted per anonymous visitor:
  `until_dismissed` stops after a dismissal (`frequency_dismissed`) or a click on a tracked
  action (`frequency_responded`); `times` N stops after N views (`frequency_max_views`) or a
  dismissal; `always` ignores both. The minimum interval between two views applies to every
  mode (`min_interval`).
- Messages are ordered by priority (lower first; ties: the older message, i.e. lower id,
  first). The first eligible message of each display slot is delivered; later ones in the
  same slot get `display_slot_taken`. Slots: every modal shares one slot (at most one modal),
  each overlay corner, each banner edge and each inline element id is its own slot.
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from campaigns.rules import Page, Rule, evaluate, rule_matches

ELIGIBLE = "eligible"
PLAN = "plan"
INAPP_DISABLED = "inapp_disabled"
IDENTIFIED = "identified"
DRAFT = "draft"
ARCHIVED = "archived"
ENDED = "ended"
PAUSED = "paused"
NOT_STARTED = "not_started"
PAGE_RULE = "page_rule"
FREQUENCY_DISMISSED = "frequency_dismissed"
FREQUENCY_RESPONDED = "frequency_responded"
FREQUENCY_MAX_VIEWS = "frequency_max_views"
MIN_INTERVAL = "min_interval"
DISPLAY_SLOT_TAKEN = "display_slot_taken"

# Reason code → short label for the dashboard.
REASON_LABELS = {
    ELIGIBLE: "Shown",
    PLAN: "Plan without anonymous messages",
    INAPP_DISABLED: "In-app messages disabled",
    IDENTIFIED: "Identified visitor",
    DRAFT: "Draft",
    ARCHIVED: "Archived",
    ENDED: "Ended",
    PAUSED: "Paused",
    NOT_STARTED: "Not started",
    PAGE_RULE: "Page rule",
    FREQUENCY_DISMISSED: "Frequency: dismissed",
    FREQUENCY_RESPONDED: "Frequency: responded",
    FREQUENCY_MAX_VIEWS: "Frequency: maximum views reached",
    MIN_INTERVAL: "Frequency: minimum interval",
    DISPLAY_SLOT_TAKEN: "Display slot taken",
}


@dataclass(frozen=True)
class Action:
    """A tracked action of the message's HTML (see campaigns.content.extract_actions)."""

    name: str
    label: str
    url: str = ""


@dataclass(frozen=True)
class LiveMessage:
    """What delivery needs to know about one message: plain values, cacheable, picklable."""

    id: int
    name: str
    priority: int = 1
    status: str = "launched"  # campaigns.models.Status: draft|launched|paused|ended|archived
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    frequency_mode: str = "until_dismissed"  # until_dismissed|times|always
    frequency_times: int = 1
    min_interval_seconds: int = 0
    display_type: str = "modal"  # modal|overlay|banner|inline
    display_position: str = "center"
    display_element_id: str = ""
    close_on_backdrop: bool = True
    html: str = ""
    label: str = "Message"  # what visitors hear (campaigns.content): never `name`
    actions: tuple[Action, ...] = ()
    rules: tuple[Rule, ...] = ()
    # The message as the delivery API sends it, rendered once when the cache is filled
    # (delivery.sdk_api.live_messages); not part of the message's identity.
    payload: dict | None = field(default=None, compare=False)
    payload_json: str = field(default="", compare=False)

    @property
    def slot(self) -> str:
        """The display slot: two messages of the same slot are never shown together."""
        if self.display_type == "modal":
            return "modal"
        if self.display_type == "inline":
            return f"inline:{self.display_element_id}"
        return f"{self.display_type}:{self.display_position}"


@dataclass(frozen=True)
class MessageState:
    """What one visitor did with one message (delivery.models.VisitorMessageState)."""

    views: int = 0
    last_viewed_at: datetime | None = None
    dismissed_at: datetime | None = None
    responded_at: datetime | None = None


NO_STATE = MessageState()


@dataclass(frozen=True)
class Decision:
    message: LiveMessage
    reason: str
    detail: str = field(default="", compare=False)

    @property
    def deliver(self) -> bool:
        return self.reason == ELIGIBLE


def delivery_order(messages: Sequence[LiveMessage]) -> list[LiveMessage]:
    """Lower priority number first; ties: lower id (the older message) first."""
    return sorted(messages, key=lambda message: (message.priority, message.id))


def decide(
    *,
    messages: Sequence[LiveMessage],
    page: Page | Sequence[Page],
    now: datetime,
    states: Mapping[int, MessageState] | None = None,
    identified: bool = False,
    inapp_enabled: bool = True,
    plan_allows: bool = True,
    time_zone: str = "UTC",
    explain: bool = True,
    rules_allowed: Collection[int] | None = None,
) -> list[Decision]:
    """One decision per message, in delivery order.

    `page` may be several pages (e.g. a mobile screen whose platform is unknown: the message
    shows if its rules allow any of them). `states` maps message id → MessageState; a message
    without an entry was never seen by this visitor. With `explain=False` (the delivery hot
    path) the decisions carry reason codes but no human-readable detail. `rules_allowed`, if
    given, is the ids of the messages whose page rules allow this page (`allowed_by_rules`,
    which the caller may have memoised).
    """
    states = states or {}
    pages = (page,) if isinstance(page, Page) else tuple(page)
    try:
        tz = ZoneInfo(time_zone)
    except (ValueError, ZoneInfoNotFoundError):  # validated on save; never fail a request on it
        tz = ZoneInfo("UTC")
    decisions = []
    taken: dict[str, int] = {}
    for message in delivery_order(messages):
        reason, detail = _gate(
            message,
            pages=pages,
            now=now,
            state=states.get(message.id, NO_STATE),
            identified=identified,
            inapp_enabled=inapp_enabled,
            plan_allows=plan_allows,
            tz=tz,
            explain=explain,
            rules_allowed=rules_allowed,
        )
        if reason == ELIGIBLE:
            holder = taken.get(message.slot)
            if holder is not None:
                reason = DISPLAY_SLOT_TAKEN
                detail = (
                    f"Message {holder} is shown in the same place ({message.slot})."
                    if explain
                    else ""
                )
            else:
                taken[message.slot] = message.id
        decisions.append(Decision(message, reason, detail))
    return decisions


def delivered(decisions: Sequence[Decision]) -> list[LiveMessage]:
    return [decision.message for decision in decisions if decision.deliver]


_STOPPED = frozenset({"draft", "archived", "ended", "paused"})


def select(
    *,
    messages: Sequence[LiveMessage],
    page: Page | Sequence[Page],
    now: datetime,
    states: Mapping[int, MessageState] | None = None,
    rules_allowed: Collection[int] | None = None,
) -> list[LiveMessage]:
    """`delivered(decide(...))` for an anonymous visitor of an open workspace, without reasons.

    The caller has already answered the workspace and visitor gates (plan, in-app switch,
    identity), and wants only the messages to show. A test keeps it equal to `decide`.
    """
    pages = (page,) if isinstance(page, Page) else tuple(page)
    candidates = [
        message
        for message in delivery_order(messages)
        if (
            message.id in rules_allowed
            if rules_allowed is not None
            else not message.rules or any(rules_allow(message.rules, p) for p in pages)
        )
    ]
    return select_candidates(candidates, now=now, states=states or {})


def select_candidates(
    candidates: Sequence[LiveMessage], *, now: datetime, states: Mapping[int, MessageState]
) -> list[LiveMessage]:
    """`select` for messages already allowed by the page's rules, in delivery order: the hot
    path, whose candidates are memoised per content version and page
    (delivery.sdk_api.live_messages.page_candidates). Each is dropped at its first failed check,
    cheapest first."""
    taken = set()
    chosen = []
    for message in candidates:
        if (
            message.status in _STOPPED
            or (message.ends_at is not None and message.ends_at <= now)
            or (message.starts_at is not None and message.starts_at > now)
        ):
            continue
        state = states.get(message.id)
        if state is not None and _frequency_reason(message, state=state, now=now):
            continue
        slot = message.slot
        if slot in taken:
            continue
        taken.add(slot)
        chosen.append(message)
    return chosen


def _gate(
    message: LiveMessage,
    *,
    pages: tuple[Page, ...],
    now: datetime,
    state: MessageState,
    identified: bool,
    inapp_enabled: bool,
    plan_allows: bool,
    tz: ZoneInfo,
    explain: bool,
    rules_allowed: Collection[int] | None,
) -> tuple[str, str]:
    if not plan_allows:
        return PLAN, "Anonymous messages need a premium or enterprise plan."
    if not inapp_enabled:
        return INAPP_DISABLED, "In-app messages are switched off for this workspace."
    if identified:
        return IDENTIFIED, "The visitor is identified: anonymous messages are not shown."

    reason = _schedule_reason(message, now=now, tz=tz)
    if reason is not None:
        return reason

    if rules_allowed is not None:
        allowed = message.id in rules_allowed
    else:
        allowed = not message.rules or any(rules_allow(message.rules, page) for page in pages)
    if not allowed:
        return PAGE_RULE, evaluate(message.rules, pages[0]).reason if explain and pages else ""

    reason = _frequency_reason(message, state=state, now=now)
    if reason is not None:
        return reason
    return ELIGIBLE, "Eligible."


def _local(moment: datetime, tz: ZoneInfo) -> str:
    return f"{moment.astimezone(tz):%Y-%m-%d %H:%M} ({tz.key})"


def _schedule_reason(message: LiveMessage, *, now: datetime, tz: ZoneInfo):
    if message.status == "draft":
        return DRAFT, "The message is a draft: launch it first."
    if message.status == "archived":
        return ARCHIVED, "The message is archived."
    if message.status == "ended":
        return ENDED, "The message was ended."
    if message.ends_at is not None and message.ends_at <= now:
        return ENDED, f"The message ended on {_local(message.ends_at, tz)}."
    if message.status == "paused":
        return PAUSED, "The message is paused."
    if message.starts_at is not None and message.starts_at > now:
        return NOT_STARTED, f"The message starts on {_local(message.starts_at, tz)}."
    return None


def _frequency_reason(message: LiveMessage, *, state: MessageState, now: datetime):
    mode = message.frequency_mode
    if mode != "always" and state.dismissed_at is not None:
        return FREQUENCY_DISMISSED, "The visitor dismissed it."
    if mode == "until_dismissed" and state.responded_at is not None:
        return FREQUENCY_RESPONDED, "The visitor clicked one of its tracked actions."
    if mode == "times" and state.views >= max(message.frequency_times, 1):
        return (
            FREQUENCY_MAX_VIEWS,
            f"Already seen {state.views} of {message.frequency_times} times.",
        )
    interval = message.min_interval_seconds
    if interval and state.last_viewed_at is not None:
        elapsed = (now - state.last_viewed_at).total_seconds()
        if elapsed < interval:
            return (
                MIN_INTERVAL,
                f"Seen {int(elapsed)} s ago; shows again after {interval} s.",
            )
    return None


@lru_cache(maxsize=20_000)
def rules_allow(rules: tuple[Rule, ...], page: Page) -> bool:
    """`campaigns.rules.evaluate(rules, page).shows`, without the explanations, memoised.

    Pure, so the memo is safe; the same pages come back again and again, so a warm delivery
    request rarely matches a rule at all. The semantics are DESIGN.md §2's (and a test keeps
    this equal to `evaluate`): no rules → every page; no rule for the page's platform → never;
    a matching exclusion → never; else any inclusion matches, or there is none.
    """
    if not rules:
        return True
    applicable = False
    has_inclusion = included = False
    for rule in rules:
        if rule.platform != page.platform:
            continue
        applicable = True
        try:
            matched = rule_matches(rule, page)
        except ValueError:  # an unknown operator never matches (as in evaluate)
            matched = False
        if rule.exclude:
            if matched:
                return False
        else:
            has_inclusion = True
            included = included or matched
    return applicable and (included or not has_inclusion)


def allowed_by_rules(messages: Sequence[LiveMessage], pages: Sequence[Page]) -> frozenset[int]:
    """The ids of the messages whose page rules allow any of these pages."""
    return frozenset(
        message.id
        for message in messages
        if not message.rules or any(rules_allow(message.rules, page) for page in pages)
    )
