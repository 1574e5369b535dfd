"""A workspace's live messages, cached as plain values keyed on (workspace id, content version).

The delivery hot path reads the workspace row anyway (to resolve the write key), and with it
`content_version`, which campaigns bumps on every change to a message or a rule
(campaigns/signals.py). The cache key includes that version, so an entry can never be stale:
a change makes the next request look up a new key. Nothing is ever invalidated explicitly,
which is what makes it safe across any number of processes, each with its own memory.

Three levels: a small dict in this process (no unpickling on the hot path), then Django's cache
(`default`: local memory, or Redis when REDIS_URL is set, shared by every process), then the
database (two queries: messages, rules).

"Live" = launched and not ended when loaded (`AnonymousMessage.objects.live()`); scheduled
messages are included and their start/end are checked by eligibility at request time, so an
entry stays correct as time passes.
"""

import json
from collections.abc import Callable
from dataclasses import replace

from django.conf import settings
from django.core.cache import caches
from django.db.models import Exists, OuterRef
from django.utils import timezone

from campaigns import assignment
from campaigns.audience import Visit
from campaigns.content import Action
from campaigns.models import AnonymousMessage, MessageVariant, PageRule
from campaigns.rules import Page, Rule
from campaigns.triggers import default_trigger
from delivery.sdk_api import CACHE_ALIAS
from delivery.sdk_api.eligibility import (
    NOTHING_KNOWN,
    Experiment,
    LiveMessage,
    allowed_by_rules,
    audience_outcome,
    delivery_order,
    in_arm,
    next_schedule_change,
    select_candidates,
)

# Which positions each display type accepts; the first is the default (campaigns.models).
POSITIONS = {
    "modal": ("center", "top", "bottom"),
    "overlay": ("bottom-right", "bottom-left", "top-right", "top-left"),
    "banner": ("top", "bottom"),
}
CACHE_TIMEOUT = 24 * 60 * 60
LOCAL_LIMIT = 1000

_local: dict[tuple[int, int], tuple[LiveMessage, ...]] = {}
_candidates: dict[tuple[int, int, tuple[Page, ...]], tuple[LiveMessage, ...]] = {}
CANDIDATES_LIMIT = 20_000
# (workspace id, content version, pages[, audience outcome]) → (valid until, as a POSIX
# timestamp; the body, or None when it depends on the visitor's arms; the messages chosen)
_stateless_bodies: dict[tuple, tuple[float, str | None, tuple[LiveMessage, ...]]] = {}
# (workspace id, content version, pages) → the page's candidates that have audience conditions
_with_audience: dict[tuple[int, int, tuple[Page, ...]], tuple[LiveMessage, ...]] = {}


# Bumped when what is cached changes shape, so that a deploy never serves an older release's
# entries (2: the answer carries `label`, not the internal `name`; 3: audience conditions,
# `trigger` and experiments' arms).
CACHE_FORMAT = 3


def cache_key(workspace_id: int, content_version: int) -> str:
    return f"anonmsg:live-messages:v{CACHE_FORMAT}:{workspace_id}:{content_version}"


def live_messages(*, workspace_id: int, content_version: int) -> tuple[LiveMessage, ...]:
    """The workspace's live messages at this content version, in delivery order (no query
    when warm)."""
    key = (workspace_id, content_version)
    messages = _local.get(key)
    if messages is not None:
        return messages
    cache = caches[CACHE_ALIAS]
    messages = cache.get(cache_key(*key))
    if messages is None:
        messages = load_live_messages(workspace_id=workspace_id)
        cache.set(cache_key(*key), messages, CACHE_TIMEOUT)
    if len(_local) >= LOCAL_LIMIT:
        _local.clear()
    for older in [k for k in _local if k[0] == workspace_id]:
        _local.pop(older, None)  # a newer version replaces the workspace's older ones
    _local[key] = messages
    return messages


def page_candidates(
    *, workspace_id: int, content_version: int, messages, pages: tuple[Page, ...]
) -> tuple[LiveMessage, ...]:
    """The live messages whose page rules allow the page, in delivery order, memoised per
    version and page: visitors keep asking about the same pages, and rules only change with
    the content version."""
    key = (workspace_id, content_version, pages)
    candidates = _candidates.get(key)
    if candidates is None:
        allowed = allowed_by_rules(messages, pages)
        candidates = tuple(message for message in messages if message.id in allowed)
        if len(_candidates) >= CANDIDATES_LIMIT:
            _candidates.clear()
        _candidates[key] = candidates
    return candidates


def stateless_body(
    *,
    workspace_id: int,
    content_version: int,
    pages: tuple[Page, ...],
    read_visit: Callable[[], Visit] = lambda: NOTHING_KNOWN,
    anonymous_id: str = "",
) -> str:
    """The delivery answer's body for a visitor without state (a new visitor: the common case)
    on these pages. It depends only on the pages, the content version, the clock and, when
    some of the page's messages have audience conditions, on which of them leave this visit
    out: it is memoised per version, pages (and that outcome) until the next start or end
    among the page's messages. `read_visit` is called only then: reading the request's
    context costs more than the rest of a warm answer.

    With a message in an experiment among them, what is memoised is the choice of messages,
    and each visitor's answer joins their arms' JSON (a hash each, no query); unless a variant
    has a display of its own, whose slot would make the choice depend on the arm."""
    key = (workspace_id, content_version, pages)
    with_audience = _with_audience.get(key)
    if with_audience is None:
        with_audience = tuple(
            message
            for message in page_candidates(
                workspace_id=workspace_id,
                content_version=content_version,
                messages=live_messages(workspace_id=workspace_id, content_version=content_version),
                pages=pages,
            )
            if message.audience
        )
        if len(_with_audience) >= CANDIDATES_LIMIT:
            _with_audience.clear()
        _with_audience[key] = with_audience
    visit = NOTHING_KNOWN
    if with_audience:
        visit = read_visit()
        key = (*key, audience_outcome(with_audience, visit))
    entry = _stateless_bodies.get(key)
    now = timezone.now()
    if entry is not None and now.timestamp() < entry[0]:
        if entry[1] is not None:
            return entry[1]
        return messages_body([in_arm(message, anonymous_id) for message in entry[2]])
    messages = live_messages(workspace_id=workspace_id, content_version=content_version)
    candidates = page_candidates(
        workspace_id=workspace_id, content_version=content_version, messages=messages, pages=pages
    )
    experiments = [message.experiment for message in candidates if message.experiment]
    chosen = select_candidates(
        candidates, now=now, states={}, visit=visit, anonymous_id=anonymous_id
    )
    if any(experiment.slots_differ for experiment in experiments):
        return messages_body(chosen)
    body = None if experiments else messages_body(chosen)
    # The messages themselves, not this visitor's arms of them.
    by_id = {message.id: message for message in candidates}
    chosen = tuple(by_id[message.id] for message in chosen)
    change = next_schedule_change(candidates, now=now)
    if len(_stateless_bodies) >= CANDIDATES_LIMIT:
        _stateless_bodies.clear()
    _stateless_bodies[key] = (change.timestamp() if change else float("inf"), body, chosen)
    if body is None:
        return messages_body([in_arm(message, anonymous_id) for message in chosen])
    return body


def messages_body(messages, *, reason: str | None = None) -> str:
    """The answer's JSON from each message's JSON, encoded once when the cache was filled."""
    interval = int(settings.ANONMSG_POLL_INTERVAL)
    extra = f', "reason": {json.dumps(reason)}' if reason is not None else ""
    return (
        f'{{"messages": [{", ".join(m.payload_json for m in messages)}], '
        f'"pollInterval": {interval}{extra}}}'
    )


def clear_local() -> None:
    """Forget this process's copies (tests use it to play "another process")."""
    _local.clear()
    _candidates.clear()
    _stateless_bodies.clear()
    _with_audience.clear()


def load_live_messages(*, workspace_id: int) -> tuple[LiveMessage, ...]:
    messages = list(
        AnonymousMessage.objects.filter(workspace_id=workspace_id)
        .live()
        .annotate(has_variants=Exists(MessageVariant.objects.filter(message=OuterRef("pk"))))
        .order_by()
    )
    rules: dict[int, list[Rule]] = {message.pk: [] for message in messages}
    for rule in PageRule.objects.filter(message__in=messages).order_by("position", "id"):
        rules[rule.message_id].append(rule_of(rule))
    variants: dict[int, list[MessageVariant]] = {message.pk: [] for message in messages}
    with_variants = [message for message in messages if message.has_variants]
    if with_variants:  # a third query only for a workspace running experiments
        for variant in MessageVariant.objects.filter(message__in=with_variants).order_by("key"):
            variants[variant.message_id].append(variant)
    live = [
        to_live_message(message, rules=rules[message.pk], variants=variants[message.pk])
        for message in messages
    ]
    return tuple(delivery_order(live))


def rule_of(rule: PageRule) -> Rule:
    return Rule(
        platform=rule.platform,
        operator=rule.operator,
        value=rule.value,
        exclude=rule.exclude,
        case_sensitive=rule.case_sensitive,
    )


def to_live_message(message: AnonymousMessage, *, rules=(), variants=()) -> LiveMessage:
    """The message as delivery caches it. `variants` (its MessageVariants, B–D) make it an
    experiment, as does a holdout: each arm's answer is then rendered here, once."""
    live = LiveMessage(
        id=message.pk,
        name=message.name,
        priority=message.priority,
        status=message.status,
        starts_at=message.starts_at,
        ends_at=message.ends_at,
        frequency_mode=message.frequency_mode,
        frequency_times=message.frequency_times,
        min_interval_seconds=message.min_interval_seconds,
        display_type=message.display_type,
        display_position=message.display_position,
        display_element_id=message.display_element_id,
        close_on_backdrop=message.close_on_backdrop,
        html=message.content_html,
        label=message.content_label,
        # Read from the HTML when the message was saved: delivery never parses HTML.
        actions=tuple(Action(**action) for action in message.content_actions),
        rules=tuple(rules),
        audience=tuple(message.audience or ()),
        trigger=message.trigger or None,
    )
    if variants or message.holdout_percent:
        return replace(live, experiment=_experiment(message, live, variants))
    return _rendered(live)


def _rendered(live: LiveMessage, **extra) -> LiveMessage:
    payload = {**message_payload(live), **extra}
    return replace(live, payload=payload, payload_json=json.dumps(payload))


def _experiment(message: AnonymousMessage, live: LiveMessage, variants) -> Experiment:
    """Each arm's message: A is the message, B–D its content (and display, where the
    variant sets one) with the same rules, frequency and schedule; the holdout entry keeps
    A's display, hence A's slot, but carries no content (docs/delivery-api.md)."""
    arms = [("A", _rendered(live, variant="A"))]
    for variant in variants:
        display_type = variant.display_type or live.display_type
        same_type = display_type == live.display_type
        arm = replace(
            live,
            display_type=display_type,
            display_position=variant.display_position
            or (live.display_position if same_type else ""),
            display_element_id=variant.display_element_id
            or (live.display_element_id if same_type else ""),
            close_on_backdrop=(
                live.close_on_backdrop
                if variant.close_on_backdrop is None
                else variant.close_on_backdrop
            ),
            html=variant.content_html,
            label=variant.content_label,
            actions=tuple(Action(**action) for action in variant.content_actions),
        )
        arms.append((variant.key, _rendered(arm, variant=variant.key)))
    full = message_payload(live)
    holdout = {"id": live.id, "holdout": True}
    if "trigger" in full:  # exposed when the message would have shown
        holdout["trigger"] = full["trigger"]
    arms.append(
        (assignment.HOLDOUT, replace(live, payload=holdout, payload_json=json.dumps(holdout)))
    )
    return Experiment(
        seed=message.experiment_seed,
        holdout_percent=message.holdout_percent,
        weights=(("A", message.variant_a_weight), *((v.key, v.weight) for v in variants)),
        arms=tuple(arms),
    )


def message_payload(message: LiveMessage) -> dict:
    """One message as the delivery API sends it (docs/delivery-api.md)."""
    if message.display_type == "inline":
        position = None
    else:
        choices = POSITIONS.get(message.display_type, POSITIONS["modal"])
        position = message.display_position if message.display_position in choices else choices[0]
    mode = message.frequency_mode
    return {
        "id": message.id,
        # The content's own name for visitors; the internal `name` never leaves the dashboard.
        "label": message.label or "Message",
        "priority": message.priority,
        "display": {
            "type": message.display_type,
            "position": position,
            "elementId": message.display_element_id or None,
            "closeOnBackdrop": message.close_on_backdrop,
        },
        "html": message.html,
        "actions": [
            {"name": action.name, "label": action.label, "url": action.url or None}
            for action in message.actions
        ],
        # The same rules in the gist protocol's terms: max views (0 = unlimited), minimum
        # seconds between views, whether a dismissal stops it.
        "frequency": {
            "mode": mode,
            "maxViews": message.frequency_times if mode == "times" else 0,
            "minIntervalSeconds": message.min_interval_seconds,
            "dismissStops": mode != "always",
        },
        # When the SDK shows it (docs/sdk.md, Triggers): it waits; the view counts on display.
        "trigger": message.trigger or default_trigger(),
    }
