"""Workspace scoping: the one way dashboard views reach workspace-owned objects.

Dashboard URLs carry the workspace id (/w/<workspace_id>/...). `workspace_required` resolves it
against the user's memberships, so a workspace the user does not belong to is a 404, exactly
like one that does not exist. Objects are then loaded with `get_for_workspace`, which 404s on
another workspace's object.

Put `workspace_required` outermost (above `require_POST` and the like), so that a visitor who
is not a member gets a 404 on every workspace URL whatever the method, never a 405 or 403
that would confirm the workspace exists.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from anonmsg.models import Membership

SESSION_KEY = "current_workspace_id"


def workspace_required(view=None, *, admin=False):
    """Load request.workspace and request.membership from the URL's workspace_id (404 if foreign).

    With admin=True, members without the admin role get a 403.
    """

    def decorator(view_func):
        @login_required
        @wraps(view_func)
        def wrapper(request, workspace_id, *args, **kwargs):
            membership = None
            if _is_database_id(workspace_id):
                membership = (
                    Membership.objects.select_related("workspace")
                    .filter(user=request.user, workspace_id=workspace_id)
                    .first()
                )
            if membership is None:
                raise Http404("No such workspace.")
            if admin and not membership.is_admin:
                raise PermissionDenied("Only workspace admins can do this.")
            request.membership = membership
            request.workspace = membership.workspace
            if request.session.get(SESSION_KEY) != membership.workspace_id:
                request.session[SESSION_KEY] = membership.workspace_id
            return view_func(request, *args, **kwargs)

        return wrapper

    return decorator(view) if view is not None else decorator


def scoped(model_or_queryset: type[Model] | QuerySet, workspace) -> QuerySet:
    """The objects of `workspace` only. Models must have a `workspace` foreign key."""
    qs = (
        model_or_queryset
        if isinstance(model_or_queryset, QuerySet)
        else model_or_queryset._default_manager.all()
    )
    return qs.filter(workspace=workspace)


def get_for_workspace(model_or_queryset, workspace, **lookup):
    """One object of `workspace`; another workspace's object is a 404."""
    if not all(_fits_database_integer(value) for value in lookup.values()):
        raise Http404("No such object.")
    return get_object_or_404(scoped(model_or_queryset, workspace), **lookup)


# URLs accept any number of digits; a number beyond 64 bits names nothing (and would make the
# database raise an error instead of finding no row).
_MAX_DATABASE_INTEGER = 2**63 - 1


def _fits_database_integer(value) -> bool:
    return (
        not isinstance(value, int) or -_MAX_DATABASE_INTEGER - 1 <= value <= _MAX_DATABASE_INTEGER
    )


def _is_database_id(value) -> bool:
    return isinstance(value, int) and 0 < value <= _MAX_DATABASE_INTEGER
