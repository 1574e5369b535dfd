"""Plan gating: anonymous messages exist only on premium and enterprise plans."""

from functools import wraps

from django.http import JsonResponse
from django.shortcuts import render

UPGRADE_TITLE = "You might not have access to this feature!"
UPGRADE_TEXT = "This feature is only available on our premium and enterprise plans."


def anonymous_messages_required(view_func):
    """For dashboard views behind workspace_required: a free workspace gets the upgrade page."""

    @wraps(view_func)
    def wrapper(request, *args, **kwargs):
        if not request.workspace.has_anonymous_messages:
            return render(
                request,
                "anonmsg/upgrade.html",
                {"upgrade_title": UPGRADE_TITLE, "upgrade_text": UPGRADE_TEXT},
            )
        return view_func(request, *args, **kwargs)

    return wrapper


def plan_error_response() -> JsonResponse:
    """The App API's answer on a free workspace."""
    return JsonResponse(
        {
            "error": "plan_required",
            "message": f"{UPGRADE_TEXT} Ask your administrator to upgrade this workspace.",
        },
        status=403,
    )
