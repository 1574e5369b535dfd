from anonmsg.models import Workspace


def workspace_nav(request):
    """The current workspace and the user's other workspaces, for the navigation bar."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "current_workspace": getattr(request, "workspace", None),
        "current_membership": getattr(request, "membership", None),
        "user_workspaces": Workspace.objects.for_user(user).only("id", "name", "plan"),
    }
