"""Every page under /w/<workspace_id>/ belongs to one workspace; nobody else can see it.

The URL list is read from the resolver, so pages other apps add later are covered too.
"""

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RoutePattern

from anonmsg.tenancy import get_for_workspace
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

WORKSPACE_PREFIX = "w/<int:workspace_id>/"
HUGE_ID = 2**70
_CONVERTER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


def workspace_routes() -> list[str]:
    """Every URL pattern below /w/<workspace_id>/, as its full route string."""
    routes = []

    def walk(patterns, prefix):
        for pattern in patterns:
            if not isinstance(pattern.pattern, RoutePattern):
                # re_path: cannot be filled in generically; use path() for workspace pages.
                if prefix.startswith(WORKSPACE_PREFIX):
                    routes.append(f"{prefix}<regex:{pattern.pattern}>")
                continue
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith(WORKSPACE_PREFIX):
                routes.append(route)

    walk(get_resolver().url_patterns, "")
    return sorted(set(routes))


def fill(route: str, workspace_id: int, other_id: int = 1) -> str:
    """A URL for `route` with the workspace id and made-up values for the other parts."""
    assert "<regex:" not in route, f"{route}: workspace pages must be declared with path()"

    def value(match):
        if match["name"] == "workspace_id":
            return str(workspace_id)
        return {
            "int": str(other_id),
            "uuid": str(uuid.UUID(int=other_id % 2**128)),
        }.get(match["converter"], "x")

    return "/" + _CONVERTER.sub(value, route)


ROUTES = workspace_routes()


def test_the_route_scan_finds_the_foundation_pages():
    assert {
        "w/<int:workspace_id>/",
        "w/<int:workspace_id>/settings/",
        "w/<int:workspace_id>/settings/general/",
        "w/<int:workspace_id>/settings/toggle/",
        "w/<int:workspace_id>/settings/rotate-api-key/",
        "w/<int:workspace_id>/anonymous/",
        "w/<int:workspace_id>/people/",
        "w/<int:workspace_id>/activity/",
    } <= set(ROUTES)


@pytest.mark.parametrize("route", ROUTES)
def test_an_outsider_gets_404_on_every_workspace_page(route, outsider_client, workspace):
    response = outsider_client.get(fill(route, workspace.pk))
    assert response.status_code == 404, (
        f"GET {route} answered {response.status_code} to a non-member: "
        "put @workspace_required outermost on its view"
    )


@pytest.mark.parametrize("route", ROUTES)
def test_a_workspace_that_does_not_exist_is_a_404(route, owner_client, workspace):
    for workspace_id in (workspace.pk + 1000, HUGE_ID):
        response = owner_client.get(fill(route, workspace_id))
        assert response.status_code == 404, f"{route} with workspace {workspace_id}"


@pytest.mark.parametrize("route", ROUTES)
def test_a_visitor_who_is_not_logged_in_is_sent_to_the_login_page(route, client, workspace):
    response = client.get(fill(route, workspace.pk))
    assert response.status_code == 302, route
    assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize("route", ROUTES)
def test_no_workspace_page_fails_on_made_up_or_huge_ids(route, owner_client, workspace):
    for other_id in (1, HUGE_ID):
        response = owner_client.get(fill(route, workspace.pk, other_id))
        assert response.status_code < 500, f"{route} with id {other_id}"


def test_a_member_sees_their_own_workspace_pages(owner_client, workspace):
    for name in ("settings-inapp", "settings-general", "delivery:people", "delivery:activity"):
        response = owner_client.get(reverse(name, args=[workspace.pk]))
        assert response.status_code == 200, name


def test_a_member_of_two_workspaces_can_open_both(client, workspace):
    user = UserFactory()
    second = WorkspaceFactory(name="Second")
    MembershipFactory(user=user, workspace=workspace)
    MembershipFactory(user=user, workspace=second)
    client.force_login(user)
    for ws in (workspace, second):
        response = client.get(reverse("settings-inapp", args=[ws.pk]))
        assert response.status_code == 200
        assert response.context["current_workspace"] == ws


def test_get_for_workspace_finds_only_the_workspaces_own_objects(db):
    from anonmsg.models import Membership

    mine = MembershipFactory()
    theirs = MembershipFactory()
    assert get_for_workspace(Membership, mine.workspace, pk=mine.pk) == mine
    from django.http import Http404

    for pk in (theirs.pk, HUGE_ID, -HUGE_ID):
        with pytest.raises(Http404):
            get_for_workspace(Membership, mine.workspace, pk=pk)
