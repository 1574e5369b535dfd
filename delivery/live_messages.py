"""A workspace's live messages, cached as plain values keyed on (workspace id, content version).

The delivery hot path reads the workspace row anyway (to resolve the write key), and with it
`content_version`, which campaigns bumps on every change to a message or a rule
(campaigns/signals.py). The cache key includes that version, so an entry can never be stale:
a change makes the next request look up a new key. Nothing is ever invalidated explicitly,
which is what makes it safe across any number of processes, each with its own memory.

Two levels: a small dict in this process (no unpickling on the hot path), then Django's cache
(`default`: local memory, or Redis when REDIS_URL is set, shared by every process), then the
database (two queries: messages, rules).

"Live" = launched and not ended when loaded (`AnonymousMessage.objects.live()`); scheduled
messages are included and their start/end are checked by eligibility at request time, so an
entry stays correct as time passes.
"""

from django.core.cache import caches

from campaigns.content import extract_actions
from campaigns.models import AnonymousMessage, PageRule
from campaigns.rules import Rule
from delivery.eligibility import Action, LiveMessage

CACHE_ALIAS = "default"
CACHE_TIMEOUT = 24 * 60 * 60
LOCAL_LIMIT = 1000

_local: dict[tuple[int, int], tuple[LiveMessage, ...]] = {}


def cache_key(workspace_id: int, content_version: int) -> str:
    return f"anonmsg:live-messages:{workspace_id}:{content_version}"


def live_messages(*, workspace_id: int, content_version: int) -> tuple[LiveMessage, ...]:
    """The workspace's live messages at this content version (no query when warm)."""
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
    _local[key] = messages
    return messages


def clear_local() -> None:
    """Forget this process's copies (tests use it to play "another process")."""
    _local.clear()


def load_live_messages(*, workspace_id: int) -> tuple[LiveMessage, ...]:
    messages = list(AnonymousMessage.objects.filter(workspace_id=workspace_id).live().order_by())
    rules: dict[int, list[Rule]] = {message.pk: [] for message in messages}
    for rule in PageRule.objects.filter(message__in=messages).order_by("position", "id"):
        rules[rule.message_id].append(rule_of(rule))
    return tuple(to_live_message(message, rules=rules[message.pk]) for message in messages)


def rule_of(rule: PageRule) -> Rule:
    return Rule(
        platform=rule.platform,
        operator=rule.operator,
        value=rule.value,
        exclude=rule.exclude,
        case_sensitive=rule.case_sensitive,
    )


def to_live_message(message: AnonymousMessage, *, rules=()) -> LiveMessage:
    return LiveMessage(
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
        actions=tuple(
            Action(name=action.name, label=action.label, url=action.url)
            for action in extract_actions(message.content_html)
        ),
        rules=tuple(rules),
    )
