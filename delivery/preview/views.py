"""The dashboard's preview link: /w/<id>/anonymous/<message_id>/preview/ opens the workspace's
site with one message forced on (the token: delivery/preview/tokens.py)."""

from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from anonmsg.plans import anonymous_messages_required
from anonmsg.snippet import public_base_url
from anonmsg.tenancy import get_for_workspace, workspace_required
from campaigns.models import AnonymousMessage
from delivery.demo_site import demo_pages, is_demo_workspace
from delivery.preview.tokens import make_preview_token, preview_url, target_problem


@require_GET
@workspace_required
@anonymous_messages_required
def preview(request, message_id):
    """Open a page of the workspace's site with this message forced on (signed, 1 hour)."""
    workspace = request.workspace
    message = get_for_workspace(AnonymousMessage, workspace, pk=message_id)
    demo = is_demo_workspace(workspace)
    demo_links = demo_pages(public_base_url(request)) if demo else []
    demo_prefix = f"{public_base_url(request)}/demo/" if demo else ""
    url = request.GET.get("url", "").strip()
    problem = None
    if url:
        problem = target_problem(url, allowed_origins=workspace.origins, demo_prefix=demo_prefix)
        if problem is None:
            token = make_preview_token(workspace_id=workspace.pk, message_id=message.pk)
            response = redirect(preview_url(url, token=token))
            response["Cache-Control"] = "no-store"
            return response
    suggestions = [f"{origin.rstrip('/')}/" for origin in workspace.origins] + [
        link["url"] for link in demo_links
    ]
    return render(
        request,
        "delivery/preview.html",
        {
            "message": message,
            "url": url or (suggestions[0] if suggestions else ""),
            "problem": problem,
            "suggestions": suggestions,
            "demo_links": demo_links,
            "nav_section": "anonymous",
        },
        status=400 if problem else 200,
    )
