"""Outranking in a workspace now: the delivery cache's live messages on example pages.

The workspace-wide answer (the message list, the page of an active message) is kept in this
process for a minute per live-messages tuple: it changes with the messages (a new content
version loads a new tuple, so an edit shows at once) and, slowly, with the pages visitors were
recently on. It costs about (messages × pages) rule matches, ~10 µs each.
"""

import time
from dataclasses import replace

from django.utils import timezone

from campaigns.models import AnonymousMessage, State, Status
from delivery.models import Visitor
from delivery.sdk_api.live_messages import live_messages, rule_of, to_live_message
from delivery.troubleshooting.outranking import Outranked, example_pages, outranked_messages

# Pages of this many recently seen visitors are checked besides the rules' own examples.
RECENT_VISITORS = 50
KEEP_SECONDS = 60
KEEP_LIMIT = 1000

# workspace id → (the live messages it was computed from, when, the answer)
_kept: dict[int, tuple[tuple, float, dict[int, Outranked]]] = {}


def recent_pages(workspace) -> list[str]:
    """Where the latest anonymous visitors were (index anon_visitor_ws_last_seen; one short
    query). Messages are for anonymous visitors: their pages are the examples that matter."""
    return list(
        Visitor.objects.filter(workspace=workspace, profile=None)
        .exclude(last_page="")
        .order_by("-last_seen_at")
        .values_list("last_page", flat=True)[:RECENT_VISITORS]
    )


def outranking_in(workspace, *, message: AnonymousMessage | None = None) -> dict[int, Outranked]:
    """message id → how it is outranked among the workspace's live messages.

    With `message`, that message is checked as if it were running now whatever its state
    (a draft on Review, a paused or scheduled one): what would happen once it runs.
    """
    messages = live_messages(workspace_id=workspace.pk, content_version=workspace.content_version)
    if message is None or (
        message.state == State.ACTIVE and any(m.id == message.pk for m in messages)
    ):
        return _workspace_outranking(workspace, messages)
    rules = [rule_of(rule) for rule in message.rules.all()]
    running = replace(
        to_live_message(message, rules=rules), status=Status.LAUNCHED, starts_at=None, ends_at=None
    )
    return _outranking(workspace, [m for m in messages if m.id != message.pk] + [running])


def _workspace_outranking(workspace, messages: tuple) -> dict[int, Outranked]:
    kept = _kept.get(workspace.pk)
    if kept is not None and kept[0] is messages and time.monotonic() - kept[1] < KEEP_SECONDS:
        return kept[2]
    found = _outranking(workspace, messages)
    if len(_kept) >= KEEP_LIMIT:
        _kept.clear()
    _kept[workspace.pk] = (messages, time.monotonic(), found)
    return found


def _outranking(workspace, messages) -> dict[int, Outranked]:
    if len(messages) < 2:
        return {}
    pages = example_pages([m.rules for m in messages], recent_pages(workspace))
    return outranked_messages(messages, pages, now=timezone.now())


def clear_local() -> None:
    _kept.clear()
