"""Which anonymous messages a visitor gets on a page, and why the others are left out.

Pure: plain values in (the workspace's live messages, the visitor's per-message state and
identity, the page, the time), plain values out. No ORM, no cache, no clock.

`decide` is the reference: one `Decision` per message, in delivery order, with the reason
code that leaves it out (below, and docs/delivery-api.md); the tests pin DESIGN.md §2 on it.
The delivery view (`delivery/sdk_api/views.py`) calls the hot path, `select_candidates`,
which tests keep equal to `delivered(decide(...))`.

Semantics (DESIGN.md §2):

- Workspace gates first: a plan without anonymous messages (`plan`), in-app messages switched
  off (`inapp_disabled`), an identified visitor (`identified`).
- Then the message's own state: `draft`, `archived`, `ended` (stopped, or its end has come),
  `paused`, `not_started` (its start is still ahead). A start equal to now has started; an
  end equal to now has ended.
- Page rules (`campaigns.rules`): `page_rule`.
- Audience conditions (`campaigns.audience`) on what the request says about the visit
  (`Visit`, built by delivery.sdk_api.visit_context): `audience`. All must hold; a condition
  on something the request does not tell is false.
- Frequency, counted per anonymous visitor:
  `until_dismissed` stops after a dismissal (`frequency_dismissed`) or a click on a tracked
  action (`frequency_responded`); `times` N stops after N views (`frequency_max_views`) or a
  dismissal; `always` ignores both. The minimum interval between two views applies to every
  mode (`min_interval`).
- Messages are ordered by priority (lower first; ties: the older message, i.e. lower id,
  first). Slots: every modal shares one slot (at most one modal on screen), each overlay
  corner, each banner edge and each inline element id is its own slot. The first eligible
  message of a slot that shows on page load takes the slot: later ones in that slot get
  `display_slot_taken`. One that waits for a trigger (delay, scroll, exit intent, inactivity,
  click) may never show, so it does not take the slot from the messages after it: the SDK
  shows it when it fires and the slot is free (`place`). An answer carries at most
  `MESSAGES_PER_SLOT` messages per slot.
- Experiments (docs/campaigns.md): eligibility is decided first, alike for every arm; then the
  visitor's arm (campaigns.assignment) replaces the message by that arm's: a variant's content
  and display (its slot is its display's), or the holdout entry, which keeps variant A's slot
  so that nothing else shows in its place.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from campaigns import assignment
from campaigns.audience import Visit, condition_holds, explain_condition
from campaigns.content import Action
from campaigns.rules import Page, Rule, allows, evaluate
from campaigns.triggers import PAGE_LOAD

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
AUDIENCE = "audience"
FREQUENCY_DISMISSED = "frequency_dismissed"
FREQUENCY_RESPONDED = "frequency_responded"
FREQUENCY_MAX_VIEWS = "frequency_max_views"
MIN_INTERVAL = "min_interval"
DISPLAY_SLOT_TAKEN = "display_slot_taken"

# Messages of one display slot in one answer, at most: those waiting for a trigger ahead of
# the one shown on page load. The SDK shows one at a time anyway; this keeps answers small.
MESSAGES_PER_SLOT = 3


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
    # Audience conditions as stored (campaigns.audience): all must hold. Dicts, evaluated
    # as they are; left out of the hash (nothing hashes a LiveMessage, but nothing breaks if).
    audience: tuple[dict, ...] = field(default=(), hash=False)
    # When the SDK shows it once delivered (campaigns.triggers, App API shape); None = on load.
    trigger: dict | None = field(default=None, compare=False)
    # The message as the delivery API sends it, rendered once when the cache is filled
    # (delivery.sdk_api.live_messages); not part of the message's identity.
    payload: dict | None = field(default=None, compare=False)
    payload_json: str = field(default="", compare=False)
    # Set on a message in an experiment: how to find the visitor's arm, and each arm's message.
    experiment: "Experiment | None" = field(default=None, compare=False)

    # Cached on the instance (live messages are long-lived: delivery.sdk_api.live_messages);
    # both are read for every candidate of every answer.
    @cached_property
    def slot(self) -> str:
        """The display slot: two messages of the same slot are never shown together."""
        if self.display_type == "modal":
            return "modal"
        if self.display_type == "inline":
            return f"inline:{self.display_element_id}"
        return f"{self.display_type}:{self.display_position}"

    @cached_property
    def waits(self) -> bool:
        """Whether the SDK shows it only on a trigger other than page load (which may never
        come): such a message does not keep the messages after it out of its slot."""
        return bool(self.trigger) and self.trigger.get("type", PAGE_LOAD) != PAGE_LOAD


def place(slots: dict[str, list[LiveMessage]], message: LiveMessage) -> "LiveMessage | None":
    """Puts `message` in its slot of one answer (`slots`: slot → the messages placed there, in
    delivery order; see the module's docs) and answers None, or answers the message that keeps
    it out: the slot's page-load message, or, when the slot is full, its last waiting one."""
    slot = message.slot
    placed = slots.get(slot)
    if placed is None:
        slots[slot] = [message]
        return None
    last = placed[-1]
    if not last.waits or len(placed) >= MESSAGES_PER_SLOT:
        return last
    placed.append(message)
    return None


@dataclass(frozen=True)
class Experiment:
    """A message's split, and the message as each arm delivers it (variant A is the message
    itself with `"variant": "A"`; `assignment.HOLDOUT` is the entry without content)."""

    seed: str
    holdout_percent: int
    weights: tuple[tuple[str, int], ...]
    arms: tuple[tuple[str, LiveMessage], ...]

    @property
    def slots_differ(self) -> bool:
        """Whether a variant's own display puts it in another slot than variant A's."""
        return len({message.slot for _, message in self.arms}) > 1

    def arm(self, *, message_id: int, anonymous_id: str) -> LiveMessage:
        key = assignment.assign(
            message_id=message_id,
            seed=self.seed,
            anonymous_id=anonymous_id,
            holdout_percent=self.holdout_percent,
            weights=self.weights,
        )
        for arm_key, message in self.arms:
            if arm_key == key:
                return message
        raise KeyError(key)  # every key `assign` can answer has its arm (live_messages.py)


def in_arm(message: LiveMessage, anonymous_id: str) -> LiveMessage:
    """The message as this visitor's arm delivers it (itself when it is no experiment)."""
    if message.experiment is None:
        return message
    return message.experiment.arm(message_id=message.id, anonymous_id=anonymous_id)


class MessageState(NamedTuple):
    """What one visitor did with one message (delivery.models.VisitorMessageState).

    A named tuple: a returning visitor's states are decoded on every delivery request, and
    a frozen dataclass took twice as long to make."""

    views: int = 0
    last_viewed_at: datetime | None = None
    dismissed_at: datetime | None = None
    responded_at: datetime | None = None


NO_STATE = MessageState()
# A request that says nothing about the visit: every audience condition is false.
NOTHING_KNOWN = Visit()


@dataclass(frozen=True)
class Decision:
    message: LiveMessage
    reason: str
    detail: str = field(default="", compare=False)
    # For `display_slot_taken`: the delivered message that keeps this one out of its slot.
    holder: LiveMessage | None = field(default=None, compare=False)

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
    visit: Visit = NOTHING_KNOWN,
    anonymous_id: str = "",
) -> list[Decision]:
    """One decision per message, in delivery order: the reference semantics.

    `page` may be several pages (e.g. a mobile screen whose platform is unknown: the message
    shows if its rules allow any of them). `states` maps message id → MessageState; a message
    without an entry was never seen by this visitor. `visit`: what the request says about the
    visit (default: nothing known, so every audience condition is false). An eligible message
    in an experiment is decided as `anonymous_id`'s arm delivers it.
    """
    states = states or {}
    pages = (page,) if isinstance(page, Page) else tuple(page)
    try:
        tz = ZoneInfo(time_zone)
    except (ValueError, ZoneInfoNotFoundError):  # validated on save; never fail a request on it
        tz = ZoneInfo("UTC")
    decisions = []
    slots: dict[str, list[LiveMessage]] = {}
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
            visit=visit,
        )
        holder = None
        if reason == ELIGIBLE:
            message = in_arm(message, anonymous_id)
            holder = place(slots, message)
            if holder is not None:
                reason = DISPLAY_SLOT_TAKEN
                detail = (
                    f"Messages up to {holder.id} already wait for the same place "
                    f"({message.slot}): at most {MESSAGES_PER_SLOT} per answer."
                    if holder.waits
                    else f"Message {holder.id} is shown in the same place ({message.slot})."
                )
        decisions.append(Decision(message, reason, detail, holder))
    return decisions


def delivered(decisions: Sequence[Decision]) -> list[LiveMessage]:
    return [decision.message for decision in decisions if decision.deliver]


_STOPPED = frozenset({"draft", "archived", "ended", "paused"})


def select_candidates(
    candidates: Sequence[LiveMessage],
    *,
    now: datetime,
    states: Mapping[int, MessageState],
    visit: Visit = NOTHING_KNOWN,
    anonymous_id: str = "",
) -> list[LiveMessage]:
    """The messages to show among `candidates`, the messages whose page rules allow the page
    (`allowed_by_rules`), in delivery order: the hot path, whose candidates are memoised per
    content version and page (delivery.sdk_api.live_messages.page_candidates). Each is dropped at its
    first failed check, cheapest first; no reasons. For an anonymous visitor of an open
    workspace (the caller answers those gates), it equals `delivered(decide(...))`, which a
    test checks on the whole table and on random workspaces."""
    slots: dict[str, list[LiveMessage]] = {}
    chosen = []
    for message in candidates:
        if (
            message.status in _STOPPED
            or (message.ends_at is not None and message.ends_at <= now)
            or (message.starts_at is not None and message.starts_at > now)
            or (message.audience and not audience_allows(message.audience, visit))
        ):
            continue
        state = states.get(message.id)
        if state is not None and _frequency_reason(message, state=state, now=now):
            continue
        if message.experiment is not None:
            message = in_arm(message, anonymous_id)
        if place(slots, message) is None:
            chosen.append(message)
    return chosen


def next_schedule_change(messages: Sequence[LiveMessage], *, now: datetime) -> datetime | None:
    """The first start or end among `messages` still ahead of `now` (None if none): until then,
    `select_candidates(messages, now=…, states={})` gives the same answer, since a visitor
    without state is only ever left out by the schedule (and the slots it decides), unless
    one of them is in an experiment (its answer is then the visitor's arm)."""
    ahead = [
        moment
        for message in messages
        for moment in (message.starts_at, message.ends_at)
        if moment is not None and moment > now
    ]
    return min(ahead, default=None)


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
    visit: Visit,
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

    allowed = not message.rules or any(rules_allow(message.rules, page) for page in pages)
    if not allowed:
        return PAGE_RULE, evaluate(message.rules, pages[0]).reason if pages else ""

    failed = failed_condition(message.audience, visit)
    if failed is not None:
        return AUDIENCE, explain_condition(failed, visit)

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
    """`campaigns.rules.allows(rules, page)` (the rules combined as `evaluate` combines
    them), memoised: it is pure, and the same pages come back again and again, so a warm
    delivery request rarely matches a rule at all."""
    return allows(rules, page)


def allowed_by_rules(messages: Sequence[LiveMessage], pages: Sequence[Page]) -> frozenset[int]:
    """The ids of the messages whose page rules allow any of these pages."""
    return frozenset(
        message.id
        for message in messages
        if not message.rules or any(rules_allow(message.rules, page) for page in pages)
    )


def failed_condition(conditions: Sequence[dict], visit: Visit) -> dict | None:
    """The first audience condition that does not hold for `visit` (None: all hold).

    A condition delivery cannot read (stored by an older release, or edited in the
    database) never holds: a message is never shown to more visitors than it asks for."""
    for condition in conditions:
        try:
            holds = condition_holds(condition, visit)
        except (KeyError, TypeError, AttributeError):
            holds = False
        if not holds:
            return condition
    return None


def audience_allows(conditions: Sequence[dict], visit: Visit) -> bool:
    """Whether every audience condition holds for this visit (no conditions: everyone)."""
    return failed_condition(conditions, visit) is None


def audience_outcome(candidates: Sequence[LiveMessage], visit: Visit) -> frozenset[int]:
    """The ids of the candidates that have audience conditions and whose conditions leave
    this visit out. An answer computed for one visit is the answer for every visit with the
    same outcome (the rest of a visitor-less answer depends only on the page and the clock),
    so answer caches keyed by page add this to their key."""
    return frozenset(
        message.id
        for message in candidates
        if message.audience and not audience_allows(message.audience, visit)
    )
