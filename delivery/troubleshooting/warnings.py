"""Delivery's answers to campaigns' `message_warnings`, `message_list_markers` and
`variant_exposed` signals."""

from django.dispatch import receiver
from django.urls import reverse

from campaigns.models import GoalCondition, State
from campaigns.signals import message_list_markers, message_warnings, variant_exposed
from campaigns.warnings import Warning
from delivery.models import Event
from delivery.troubleshooting.event_names import SCAN_LIMIT, seen_event_names
from delivery.troubleshooting.outranking import Outranked, describe_slot
from delivery.troubleshooting.slots import outranking_in

# Ended and archived messages run no more: who would outrank them does not matter.
NOT_RUNNING = (State.ENDED, State.ARCHIVED)
PAGES_NAMED = 3


@receiver(message_warnings)
def delivery_warnings(sender, *, message, workspace, **kwargs) -> list[Warning]:
    warnings = []
    if message.state not in NOT_RUNNING:
        outranked = outranking_in(workspace, message=message).get(message.pk)
        if outranked is not None:
            warnings.append(outranked_warning(outranked, workspace_id=workspace.pk))
    if message.goal_condition == GoalCondition.EVENT and message.goal_event:
        warnings.extend(goal_event_warnings(message.goal_event, workspace=workspace))
    return warnings


def outranked_warning(outranked: Outranked, *, workspace_id: int) -> Warning:
    rival, message = outranked.rival, outranked.message
    pages = ", ".join(outranked.blocked_on[:PAGES_NAMED])
    if len(outranked.blocked_on) > PAGES_NAMED:
        pages += f" and {len(outranked.blocked_on) - PAGES_NAMED} more"
    order = (
        f"its priority {rival.priority} goes before {message.priority}"
        if rival.priority != message.priority
        else f"both have priority {rival.priority} and it is older"
    )
    where = f"all its pages (checked: {pages})" if outranked.everywhere else pages
    when = (
        "Visitors never see this one there."
        if outranked.rival_keeps_slot
        else f"Visitors see this one there only after dismissing or no longer seeing “{rival.name}”."
    )
    text = (
        f"Outranked on {where}: “{rival.name}” takes the same place ({describe_slot(message)}) "
        f"first, as {order}. {when} To fix: give this message a lower priority number, show it "
        "on other pages, or use another display (e.g. a corner overlay)."
    )
    blocks = limits = ""
    if not outranked.everywhere:
        limits = f"on {pages}, where “{rival.name}” goes first"
    else:
        blocks = f"outranked: “{rival.name}” takes its place on its pages"
    return Warning(
        text,
        "rules",
        blocks=blocks,
        limits=limits,
        link_url=reverse("campaigns:message-detail", args=[workspace_id, rival.id]),
        link_text=f"Open “{rival.name}”",
    )


def goal_event_warnings(event: str, *, workspace) -> list[Warning]:
    seen = seen_event_names(workspace)
    if event in seen.names:
        return []
    where = (
        "this workspace has never received it"
        if seen.complete
        else (f"it is not among the latest {SCAN_LIMIT:,} events this workspace received")
    )
    similar = [name for name in seen.names if name.casefold() == event.casefold()]
    hint = (
        f" Did you mean “{similar[0]}”? Names are case-sensitive."
        if similar
        else " Check its spelling against Activity, or send it from your site with "
        f'cioanalytics.track("{event}").'
    )
    return [Warning(f"The goal waits for the event “{event}”, but {where}.{hint}", "goal")]


@receiver(message_list_markers)
def blocked_markers(sender, *, workspace, message_ids, **kwargs) -> dict[int, dict]:
    wanted = set(message_ids)
    markers = {}
    for message_id, outranked in outranking_in(workspace).items():
        if message_id not in wanted:
            continue
        rival = outranked.rival
        markers[message_id] = {
            "text": f"Blocked by “{rival.name}”"
            if outranked.everywhere
            else f"Partly blocked by “{rival.name}”",
            "url": reverse("campaigns:message-detail", args=[workspace.pk, rival.id]),
            "title": f"“{rival.name}” takes the same place first on "
            + (
                "every page checked where this one shows"
                if outranked.everywhere
                else ", ".join(outranked.blocked_on[:3])
            ),
            "everywhere": outranked.everywhere,
        }
    return markers


# Message events that show a visitor saw a variant (a click or a dismissal follows a view).
EXPOSURE_ACTIONS = ("viewed_content", "clicked_content", "dismissed_content")


@receiver(variant_exposed)
def variant_exposures(sender, *, message, key, **kwargs) -> bool:
    """Whether a message event carrying `variant: key` was recorded for the message (index
    event_content_time; asked only when a variant of a launched message is removed)."""
    return Event.objects.filter(
        workspace_id=message.workspace_id,
        content_id=message.pk,
        action_type__in=EXPOSURE_ACTIONS,
        payload__properties__variant=key,
    ).exists()
