"""Dashboard pages of delivery: the Activity log and People."""

import json

from django.core.paginator import Paginator
from django.db.models.functions import Coalesce
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET

from anonmsg.htmx import render_page
from anonmsg.tenancy import get_for_workspace, scoped, workspace_required
from campaigns.models import AnonymousMessage
from delivery.models import Event, Profile, Visitor
from delivery.people.activity import (
    ActivityFilterForm,
    describe_delay,
    describe_event,
    event_page,
    filter_events,
    identified_people,
    person_events,
    person_identities,
)

PEOPLE_PER_PAGE = 50


@require_GET
@workspace_required
def activity(request):
    workspace = request.workspace
    messages = scoped(AnonymousMessage, workspace).order_by("name", "pk").values_list("pk", "name")
    form = ActivityFilterForm(request.GET or None, messages=messages)
    events = scoped(Event, workspace)
    if form.is_bound and form.is_valid():
        events = filter_events(events, form.cleaned_data, tz=workspace.tz)
    elif form.is_bound:
        events = events.none()
    page = event_page(events, before=request.GET.get("before"), after=request.GET.get("after"))
    _describe(workspace, page.events)
    context = {"form": form, "page": page, "filters": _filters_query(request)}
    return render_page(request, "delivery/activity.html", context, partial="activity-results")


@require_GET
@workspace_required
def event(request, event_id: int):
    workspace = request.workspace
    event = get_for_workspace(Event, workspace, pk=event_id)
    _describe(workspace, [event])
    message = None
    if event.content_id:
        message = scoped(AnonymousMessage, workspace).filter(pk=event.content_id).first()
    context = {
        "event": event,
        "payload": json.dumps(event.payload, indent=2, ensure_ascii=False, sort_keys=True),
        "delay": describe_delay(event.received_at - event.timestamp),
        "message": message,
        "message_url": _message_url(workspace, message),
    }
    return render(request, "delivery/event.html", context)


@require_GET
@workspace_required
def people(request):
    search = request.GET.get("q", "").strip()[:255]
    profiles = identified_people(request.workspace, search=search)
    page = Paginator(profiles, PEOPLE_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "search": search,
        "has_people": bool(search) or page.paginator.count > 0,
        "anonymous_visitors": scoped(Visitor, request.workspace).filter(profile=None).count(),
    }
    return render_page(request, "delivery/people.html", context, partial="people-results")


@require_GET
@workspace_required
def person(request, profile_id: int):
    workspace = request.workspace
    profile = get_for_workspace(Profile.objects.people(), workspace, pk=profile_id)
    user_ids, anonymous_ids = person_identities(profile)
    page = event_page(
        person_events(profile), before=request.GET.get("before"), after=request.GET.get("after")
    )
    _describe(workspace, page.events)
    context = {
        "profile": profile,
        "traits": sorted(profile.traits.items()) if isinstance(profile.traits, dict) else [],
        "visitors": profile.visitors.order_by("-last_seen_at"),
        "previous_user_ids": user_ids[1:],
        "page": page,
        "filters": "",
        "in_person": True,
    }
    return render_page(request, "delivery/person.html", context, partial="activity-results")


def _filters_query(request) -> str:
    """The current filters as a query string, for the pager links."""
    query = request.GET.copy()
    for key in ("before", "after"):
        query.pop(key, None)
    return query.urlencode()


def _describe(workspace, events: list[Event]) -> None:
    """Give each event its one-line summary and the person it belongs to (3 queries at most)."""
    anonymous_ids = {e.anonymous_id for e in events if e.anonymous_id}
    user_ids = {e.user_id for e in events if e.user_id}
    content_ids = {e.content_id for e in events if e.content_id}
    by_anonymous_id = {}
    if anonymous_ids:
        by_anonymous_id = {
            anonymous_id: (profile_id, user_id)
            for anonymous_id, profile_id, user_id in scoped(Visitor, workspace)
            .filter(anonymous_id__in=anonymous_ids, profile__isnull=False)
            .values_list(
                "anonymous_id",
                Coalesce("profile__merged_into_id", "profile_id"),
                Coalesce("profile__merged_into__user_id", "profile__user_id"),
            )
        }
    by_user_id = {}
    if user_ids:
        by_user_id = {
            user_id: (profile_id, person_user_id)
            for user_id, profile_id, person_user_id in scoped(Profile, workspace)
            .filter(user_id__in=user_ids)
            .values_list(
                "user_id",
                Coalesce("merged_into_id", "id"),
                Coalesce("merged_into__user_id", "user_id"),
            )
        }
    names = {}
    if content_ids:
        names = dict(
            scoped(AnonymousMessage, workspace).filter(pk__in=content_ids).values_list("pk", "name")
        )
    for event in events:
        person = by_user_id.get(event.user_id) or by_anonymous_id.get(event.anonymous_id)
        event.person_id, event.person_user_id = person or (None, "")
        event.headline, event.summary = describe_event(
            event, message_name=names.get(event.content_id, "")
        )


def _message_url(workspace, message) -> str | None:
    if message is None:
        return None
    try:
        return reverse("campaigns:message-detail", args=[workspace.pk, message.pk])
    except NoReverseMatch:
        return None
