"""Django admin for workspaces and memberships: staff change plans; keys stay read-only."""

import pytest
from django.urls import reverse

from anonmsg.models import Plan
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory


@pytest.fixture
def staff_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_workspace_list_renders_with_search_and_filters(staff_client, workspace):
    WorkspaceFactory(name="Globex", plan=Plan.FREE)
    url = reverse("admin:anonmsg_workspace_changelist")
    response = staff_client.get(url)
    assert response.status_code == 200
    assert "Acme" in response.content.decode()

    searched = staff_client.get(url, {"q": "glob"}).content.decode()
    assert "Globex" in searched
    assert ">Acme<" not in searched

    filtered = staff_client.get(url, {"plan__exact": "free"}).content.decode()
    assert "Globex" in filtered
    assert ">Acme<" not in filtered


def test_staff_find_a_workspace_by_a_members_e_mail(staff_client, owner, workspace):
    response = staff_client.get(reverse("admin:anonmsg_workspace_changelist"), {"q": "owner@acme"})
    assert "Acme" in response.content.decode()


def test_the_workspace_page_shows_the_write_key_read_only(staff_client, workspace):
    workspace.rotate_api_key()
    response = staff_client.get(reverse("admin:anonmsg_workspace_change", args=[workspace.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert workspace.write_key in body
    assert 'name="write_key"' not in body
    assert 'name="api_key_hint"' not in body
    assert "api_key_hash" not in body
    assert workspace.api_key_hash not in body
    assert response.context["adminform"].form.fields.keys() == {
        "name",
        "plan",
        "inapp_enabled",
        "time_zone",
        "allowed_origins",
    }


def test_staff_upgrade_a_plan_and_cannot_change_the_keys(staff_client, workspace):
    workspace.plan = Plan.FREE
    workspace.save()
    write_key, version = workspace.write_key, workspace.content_version
    response = staff_client.post(
        reverse("admin:anonmsg_workspace_change", args=[workspace.pk]),
        {
            "name": "Acme",
            "plan": "premium",
            "inapp_enabled": "on",
            "time_zone": "UTC",
            "allowed_origins": "",
            "write_key": "wk_forged",
            "api_key_hash": "forged",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    workspace.refresh_from_db()
    assert workspace.plan == "premium"
    assert workspace.write_key == write_key
    assert workspace.api_key_hash != "forged"
    assert workspace.content_version == version + 1


def test_the_membership_list_and_page_render(staff_client, owner, workspace):
    membership = MembershipFactory(workspace=WorkspaceFactory(name="Initech"))
    list_url = reverse("admin:anonmsg_membership_changelist")
    response = staff_client.get(list_url, {"role__exact": "admin", "q": "initech"})
    assert response.status_code == 200
    assert "Initech" in response.content.decode()
    page = staff_client.get(reverse("admin:anonmsg_membership_change", args=[membership.pk]))
    assert page.status_code == 200


def test_workspace_members_who_are_not_staff_cannot_open_the_admin(owner_client):
    response = owner_client.get(reverse("admin:anonmsg_workspace_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


# --- Invitations: read-mostly ----------------------------------------------------------------


def test_staff_see_invitations_read_only_and_revoke_them(staff_client, workspace, owner):
    from anonmsg.invitations import invite
    from anonmsg.models import Invitation, Role

    new = invite(workspace=workspace, email="pat@example.com", role=Role.MEMBER, invited_by=owner)
    changelist = reverse("admin:anonmsg_invitation_changelist")
    body = staff_client.get(changelist, {"q": "pat@"}).content.decode()
    assert "pat@example.com" in body
    assert "pending" in body
    assert reverse("admin:anonmsg_invitation_add") not in body

    page = staff_client.get(reverse("admin:anonmsg_invitation_change", args=[new.invitation.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="email"' not in body  # read-only
    assert new.invitation.token_hash not in body and new.token not in body
    assert staff_client.get(reverse("admin:anonmsg_invitation_add")).status_code == 403

    response = staff_client.post(
        changelist,
        {"action": "revoke_invitations", "_selected_action": [new.invitation.pk]},
        follow=True,
    )
    assert "1 invitation(s) revoked." in response.content.decode()
    assert Invitation.objects.get().revoked_at is not None
