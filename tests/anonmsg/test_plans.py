"""Plan gating: the Anonymous section is for premium and enterprise workspaces."""

import html

import pytest
from django.urls import reverse

from anonmsg.models import Plan

UPGRADE_TITLE = "You might not have access to this feature!"
UPGRADE_TEXT = "This feature is only available on our premium and enterprise plans."


def anonymous_section(client, workspace):
    return client.get(reverse("campaigns:message-list", args=[workspace.pk]))


def test_a_free_workspace_sees_the_upgrade_page_in_the_anonymous_section(owner_client, workspace):
    workspace.plan = Plan.FREE
    workspace.save()
    response = anonymous_section(owner_client, workspace)
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    assert UPGRADE_TITLE in body
    assert UPGRADE_TEXT in body
    assert "Admin → Workspaces → Acme → Plan" in body
    # Only staff get the direct link to the admin.
    assert reverse("admin:anonmsg_workspace_change", args=[workspace.pk]) not in body


def test_staff_on_a_free_workspace_get_a_link_to_change_the_plan(owner_client, owner, workspace):
    owner.is_staff = True
    owner.save()
    workspace.plan = Plan.FREE
    workspace.save()
    body = anonymous_section(owner_client, workspace).content.decode()
    assert reverse("admin:anonmsg_workspace_change", args=[workspace.pk]) in body


@pytest.mark.parametrize("plan", [Plan.PREMIUM, Plan.ENTERPRISE])
def test_premium_and_enterprise_workspaces_do_not_see_the_upgrade_page(
    owner_client, workspace, plan
):
    workspace.plan = plan
    workspace.save()
    response = anonymous_section(owner_client, workspace)
    assert response.status_code == 200
    assert UPGRADE_TITLE not in html.unescape(response.content.decode())


@pytest.mark.parametrize(
    ("plan", "has_anonymous_messages"),
    [(Plan.FREE, False), (Plan.PREMIUM, True), (Plan.ENTERPRISE, True)],
)
def test_which_plans_include_anonymous_messages(plan, has_anonymous_messages):
    from anonmsg.models import Workspace

    assert Workspace(plan=plan).has_anonymous_messages is has_anonymous_messages
