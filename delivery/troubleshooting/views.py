"""Dashboard views: "Debug a visitor" and the install check ("Test my installation")."""

from datetime import UTC, datetime, timedelta

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from anonmsg.htmx import render_page, vary_on_htmx, wants_partial
from anonmsg.plans import anonymous_messages_required
from anonmsg.tenancy import get_for_workspace, workspace_required
from campaigns.models import AnonymousMessage
from delivery.troubleshooting.debugger import (
    DebugVisitorForm,
    VisitContextForm,
    debug_visitor,
    recent_visitors,
)
from delivery.troubleshooting.install_check import last_sighting

# How long a "Test my installation" keeps waiting; an older `since` starts a new wait.
INSTALL_TEST_WINDOW = timedelta(hours=1)


@workspace_required
@anonymous_messages_required
@require_http_methods(["GET", "POST"])
@vary_on_htmx
def debug_visitor_page(request):
    """GET: the empty form (prefilled from ?anonymous_id=&location=&message=). POST: the
    answer. POST, so that visitors' IDs stay out of URLs, server logs and browser history."""
    workspace = request.workspace
    report = None
    if request.method == "POST":
        form = DebugVisitorForm(request.POST)
        visit_form = VisitContextForm(request.POST)
        valid = form.is_valid() & visit_form.is_valid()  # both, to show every error
        focus = _focus(request, form.cleaned_data.get("message") if form.is_valid() else None)
        if valid:
            report = debug_visitor(
                workspace=workspace,
                anonymous_id=form.cleaned_data["anonymous_id"],
                page=form.cleaned_data["page"],
                now=timezone.now(),
                focus=focus,
                visit=visit_form.visit(location=form.cleaned_data["location"]),
            )
    else:
        initial = {
            key: request.GET[key][:2000]
            for key in ("anonymous_id", "location", "platform")
            if key in request.GET
        }
        focus = _focus(request, request.GET.get("message"))
        initial["message"] = focus.pk if focus else None
        form = DebugVisitorForm(initial=initial)
        visit_form = VisitContextForm()
        valid = True
    context = {
        "form": form,
        "visit_form": visit_form,
        "report": report,
        "focus": focus,
        "recent": recent_visitors(workspace),
    }
    with timezone.override(workspace.tz):
        return render_page(
            request,
            "delivery/debug_visitor.html",
            context,
            partial="debugger",
            status=200 if valid else 400,
        )


def _focus(request, message_id) -> AnonymousMessage | None:
    """The message whose page the panel is on (another workspace's is a 404)."""
    if message_id in (None, ""):
        return None
    try:
        message_id = int(message_id)
    except (TypeError, ValueError):
        return None
    return get_for_workspace(AnonymousMessage, request.workspace, pk=message_id)


@workspace_required
@require_GET
@vary_on_htmx
def install_check(request):
    """Whether the snippet has been heard from. `?test=1` starts waiting for the next event
    (received from now on); `?since=<unix seconds>` goes on waiting. While nothing has come,
    htmx's polls get a 204 (nothing to swap); the first event turns the panel green."""
    workspace = request.workspace
    now = timezone.now()
    since = _since(request.GET.get("since"), now=now)
    if since is None and request.GET.get("test"):
        since = now.replace(microsecond=0)
    sighting = last_sighting(workspace, since=since)
    if since is not None and sighting is None and wants_partial(request) and "since" in request.GET:
        return HttpResponse(status=204)
    context = {
        "sighting": sighting,
        "testing": since is not None,
        "since": int(since.timestamp()) if since else None,
        "since_at": since,
        "heard": sighting is not None,
        # On Settings → In-app, the green answer also refreshes its "SDK last seen" badge.
        "on_settings": request.GET.get("on") == "settings",
    }
    with timezone.override(workspace.tz):
        if wants_partial(request):
            return render(request, "delivery/_install_check.html", context)
        return render(request, "delivery/install_check.html", context)


def _since(value: str | None, *, now: datetime) -> datetime | None:
    try:
        since = datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    if not now - INSTALL_TEST_WINDOW <= since <= now + timedelta(minutes=1):
        return None
    return since
