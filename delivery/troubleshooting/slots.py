"""Outranking in a workspace now: the delivery cache's live messages on example pages."""

from dataclasses import replace

from django.utils import timezone

from campaigns.models import AnonymousMessage, Status
from delivery.models import Visitor
from delivery.sdk_api.live_messages import live_messages, rule_of, to_live_message
from delivery.troubleshooting.outranking import Outranked, example_pages, outranked_messages

# Pages of this many recently seen visitors are checked besides the rules' own examples.
RECENT_VISITORS = 50


def recent_pages(workspace) -> list[str]:
    """Where the latest visitors were (index visitor_ws_last_seen; one short query)."""
    return list(
        Visitor.objects.filter(workspace=workspace)
        .exclude(last_page="")
        .order_by("-last_seen_at")
        .values_list("last_page", flat=True)[:RECENT_VISITORS]
    )


def outranking_in(workspace, *, message: AnonymousMessage | None = None) -> dict[int, Outranked]:
    """message id → how it is outranked among the workspace's live messages.

    With `message`, that message is checked as if it were running now whatever its state
    (a draft on Review, a paused or scheduled one): what would happen once it runs.
    """
    messages = list(
        live_messages(workspace_id=workspace.pk, content_version=workspace.content_version)
    )
    if message is not None:
        rules = [rule_of(rule) for rule in message.rules.all()]
        running = replace(
            to_live_message(message, rules=rules),
            status=Status.LAUNCHED,
            starts_at=None,
            ends_at=None,
        )
        messages = [m for m in messages if m.id != message.pk] + [running]
    if len(messages) < 2:
        return {}
    pages = example_pages([m.rules for m in messages], recent_pages(workspace))
    return outranked_messages(messages, pages, now=timezone.now())
