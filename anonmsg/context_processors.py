"""What every dashboard page needs for its navigation: workspace, switcher, current section."""

from functools import cache

from django.urls import NoReverseMatch, reverse
from django.utils.functional import SimpleLazyObject

from anonmsg.models import Membership, Workspace
from anonmsg.tenancy import SESSION_KEY


def workspace_nav(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    workspace = getattr(request, "workspace", None)
    membership = getattr(request, "membership", None)
    if workspace is None:
        # Pages outside a workspace (password change, errors): keep the last one used. Lazy, so
        # pages that never show the navigation (the admin) cost no query.
        last_used = cache(lambda: _last_used_membership(request))
        membership = SimpleLazyObject(last_used)
        workspace = SimpleLazyObject(lambda: last_used() and last_used().workspace)
    match = getattr(request, "resolver_match", None)
    # After a POST the current URL may not answer GET: switch to the workspace's home instead.
    page = match if request.method == "GET" else None

    @cache
    def switcher():
        """[(workspace, url)]; the URL keeps the current page when it exists everywhere."""
        workspaces = Workspace.objects.for_user(user).only("id", "name", "plan")
        return [(ws, _same_page_in(page, ws.pk)) for ws in workspaces]

    return {
        "current_workspace": workspace,
        "current_membership": membership,
        "workspace_switcher": switcher,
        "nav_section": nav_section(match),
    }


def _last_used_membership(request):
    workspace_id = request.session.get(SESSION_KEY)
    if not isinstance(workspace_id, int):
        return None
    return (
        Membership.objects.select_related("workspace")
        .filter(user=request.user, workspace_id=workspace_id)
        .first()
    )


def _same_page_in(match, workspace_id: int) -> str:
    if match is not None and match.url_name and set(match.kwargs) == {"workspace_id"}:
        try:
            return reverse(match.view_name, kwargs={"workspace_id": workspace_id})
        except NoReverseMatch:
            pass
    return reverse("workspace-home", kwargs={"workspace_id": workspace_id})


def nav_section(match) -> str:
    """Which sidebar entry a URL belongs to. A view may pass `nav_section` to override it."""
    if match is None or not match.url_name:
        return ""
    name = match.url_name
    if "segment" in name:
        return "segments"
    if name.startswith("settings"):
        return "settings"
    if match.namespace == "delivery":
        if name.startswith(("people", "person", "profile")):
            return "people"
        return "activity"
    if match.namespace in ("campaigns", "metrics"):
        return "anonymous"
    return ""
