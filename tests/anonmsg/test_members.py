"""Settings → Members: everyone sees who is in the workspace; admins change and remove members.

Inviting people is in test_invitations.py."""

import html

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from anonmsg.models import Invitation, Membership, Role
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

User = get_user_model()


@pytest.fixture
def member(workspace):
    return MembershipFactory(
        workspace=workspace, role=Role.MEMBER, user=UserFactory(username="max@acme.test")
    )


@pytest.fixture
def member_client(client, member):
    client.force_login(member.user)
    return client


def url(name, workspace, *args):
    return reverse(name, args=[workspace.pk, *args])


def text(response) -> str:
    return html.unescape(response.content.decode())


def snapshot():
    """Everything the members pages may write."""
    return (
        sorted(Membership.objects.values_list("workspace_id", "user_id", "role")),
        sorted(User.objects.values_list("username", "password")),
        sorted(Invitation.objects.values_list("email", "accepted_at", "revoked_at")),
    )


# --- The list --------------------------------------------------------------------------------


def test_a_member_sees_who_is_in_the_workspace_but_no_admin_controls(
    member_client, workspace, owner, member
):
    response = member_client.get(url("settings-members", workspace))
    assert response.status_code == 200
    body = text(response)
    assert "owner@acme.test" in body
    assert 'max@acme.test <span class="muted">(you)</span>' in body
    assert '<span class="badge badge-scheduled">Admin</span>' in body
    assert '<span class="badge ">Member</span>' in body
    assert member.created_at.strftime("%-d %b %Y") in body
    assert url("settings-member-invite", workspace) not in body
    assert url("settings-member-role", workspace, member.pk) not in body
    assert url("settings-member-remove", workspace, member.pk) not in body
    assert "Only admins can add, change or remove members." in body


def test_an_admin_sees_the_list_with_the_add_form_and_each_members_controls(
    owner_client, workspace, owner, member
):
    response = owner_client.get(url("settings-members", workspace))
    body = text(response)
    assert response.status_code == 200
    assert 'owner@acme.test <span class="muted">(you)</span>' in body
    assert url("settings-member-invite", workspace) in body
    for membership in Membership.objects.filter(workspace=workspace):
        assert url("settings-member-role", workspace, membership.pk) in body
        assert url("settings-member-remove", workspace, membership.pk) in body
    assert 'aria-label="Role of max@acme.test"' in body


def test_the_list_shows_only_this_workspaces_members(owner_client, workspace, owner):
    MembershipFactory(user=UserFactory(username="stranger@other.test"))
    assert "stranger@other.test" not in text(owner_client.get(url("settings-members", workspace)))


def test_every_settings_page_has_the_members_tab(owner_client, workspace):
    for name in ("settings-inapp", "settings-general", "settings-members"):
        body = text(owner_client.get(url(name, workspace)))
        assert f'<a href="{url("settings-members", workspace)}"' in body, name
    body = text(owner_client.get(url("settings-members", workspace)))
    assert f'<a href="{url("settings-members", workspace)}" aria-current="page">Members</a>' in body


# --- Changing roles --------------------------------------------------------------------------


def test_an_admin_makes_a_member_admin_and_back(owner_client, workspace, owner, member):
    role_url = url("settings-member-role", workspace, member.pk)
    response = owner_client.post(role_url, {"role": "admin"})
    assert response.status_code == 302
    assert response["Location"] == url("settings-members", workspace)
    member.refresh_from_db()
    assert member.role == Role.ADMIN

    response = owner_client.post(role_url, {"role": "member"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "max@acme.test is now a member." in text(response)
    member.refresh_from_db()
    assert member.role == Role.MEMBER


def test_an_unknown_role_is_an_error_next_to_the_member(owner_client, workspace, owner, member):
    response = owner_client.post(
        url("settings-member-role", workspace, member.pk), {"role": "owner"}
    )
    assert response.status_code == 400
    assert "Choose Admin or Member." in text(response)
    member.refresh_from_db()
    assert member.role == Role.MEMBER


def test_the_last_admin_cannot_be_demoted(owner_client, workspace, owner, member):
    mine = Membership.objects.get(user=owner, workspace=workspace)
    response = owner_client.post(
        url("settings-member-role", workspace, mine.pk), {"role": "member"}
    )
    assert response.status_code == 400
    body = text(response)
    assert "owner@acme.test is the only admin of this workspace. Make someone else an admin" in body
    assert '<p class="field-error" role="alert">' in body
    mine.refresh_from_db()
    assert mine.role == Role.ADMIN


def test_an_admin_who_cannot_log_in_does_not_count_as_another_admin(owner_client, workspace, owner):
    MembershipFactory(workspace=workspace, user=UserFactory(is_active=False), role=Role.ADMIN)
    mine = Membership.objects.get(user=owner, workspace=workspace)
    response = owner_client.post(
        url("settings-member-role", workspace, mine.pk), {"role": "member"}
    )
    assert response.status_code == 400
    mine.refresh_from_db()
    assert mine.role == Role.ADMIN


def test_an_admin_may_step_down_when_another_admin_remains(owner_client, workspace, owner):
    MembershipFactory(workspace=workspace, role=Role.ADMIN)
    mine = Membership.objects.get(user=owner, workspace=workspace)
    response = owner_client.post(
        url("settings-member-role", workspace, mine.pk),
        {"role": "member"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    mine.refresh_from_db()
    assert mine.role == Role.MEMBER
    # The answer already shows what they may do now.
    assert url("settings-member-invite", workspace) not in response.content.decode()


# --- Removing --------------------------------------------------------------------------------


def test_removing_a_member_asks_for_confirmation_first(owner_client, workspace, owner, member):
    remove_url = url("settings-member-remove", workspace, member.pk)
    members_page = text(owner_client.get(url("settings-members", workspace)))
    assert f'href="{remove_url}" hx-post="{remove_url}" hx-confirm="Remove max@acme.test' in (
        members_page
    )

    response = owner_client.get(remove_url)
    assert response.status_code == 200
    body = text(response)
    assert "Remove max@acme.test from Acme?" in body
    assert 'name="csrfmiddlewaretoken"' in body
    assert Membership.objects.filter(pk=member.pk).exists()

    response = owner_client.post(remove_url)
    assert response.status_code == 302
    assert response["Location"] == url("settings-members", workspace)
    assert not Membership.objects.filter(pk=member.pk).exists()
    assert User.objects.filter(pk=member.user_id).exists()  # the account is kept
    assert "max@acme.test was removed from Acme." in text(owner_client.get(response["Location"]))


def test_removing_over_htmx_answers_the_fresh_list(owner_client, workspace, owner, member):
    response = owner_client.post(
        url("settings-member-remove", workspace, member.pk), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "max@acme.test was removed" in text(response)
    assert f'id="member-{member.pk}"' not in response.content.decode()


def test_the_last_admin_cannot_be_removed_not_even_by_themselves(
    owner_client, workspace, owner, member
):
    mine = Membership.objects.get(user=owner, workspace=workspace)
    response = owner_client.get(url("settings-member-remove", workspace, mine.pk))
    assert "Leave Acme?" in text(response)
    response = owner_client.post(url("settings-member-remove", workspace, mine.pk))
    assert response.status_code == 400
    assert "owner@acme.test is the only admin of this workspace and cannot be removed." in text(
        response
    )
    assert Membership.objects.filter(pk=mine.pk).exists()


def test_an_admin_leaves_when_another_admin_remains_and_is_sent_out(owner_client, workspace, owner):
    MembershipFactory(workspace=workspace, role=Role.ADMIN)
    mine = Membership.objects.get(user=owner, workspace=workspace)
    response = owner_client.post(url("settings-member-remove", workspace, mine.pk))
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert not Membership.objects.filter(pk=mine.pk).exists()
    assert "You left Acme." in text(owner_client.get(reverse("home")))
    assert owner_client.get(url("settings-members", workspace)).status_code == 404


def test_leaving_over_htmx_redirects_the_browser_out(owner_client, workspace, owner):
    MembershipFactory(workspace=workspace, role=Role.ADMIN)
    mine = Membership.objects.get(user=owner, workspace=workspace)
    response = owner_client.post(
        url("settings-member-remove", workspace, mine.pk), headers={"HX-Request": "true"}
    )
    assert response["HX-Redirect"] == reverse("home")


# --- Who may do what -------------------------------------------------------------------------


def admin_actions(workspace, target):
    return [
        (
            "post",
            url("settings-member-invite", workspace),
            {"email": "x@example.com", "role": "admin"},
        ),
        ("post", url("settings-member-role", workspace, target.pk), {"role": "admin"}),
        ("get", url("settings-member-remove", workspace, target.pk), {}),
        ("post", url("settings-member-remove", workspace, target.pk), {}),
    ]


def test_a_member_gets_403_on_every_admin_action(member_client, workspace, owner, member):
    target = Membership.objects.get(user=owner, workspace=workspace)
    before = snapshot()
    for method, action_url, data in admin_actions(workspace, target) + admin_actions(
        workspace, member
    ):
        response = getattr(member_client, method)(action_url, data)
        assert response.status_code == 403, (method, action_url)
    assert snapshot() == before


def test_an_outsider_gets_404_on_everything(outsider_client, workspace, owner):
    target = Membership.objects.get(user=owner, workspace=workspace)
    before = snapshot()
    assert outsider_client.get(url("settings-members", workspace)).status_code == 404
    for method, action_url, data in admin_actions(workspace, target):
        response = getattr(outsider_client, method)(action_url, data)
        assert response.status_code == 404, (method, action_url)
    assert snapshot() == before


def test_another_workspaces_member_is_a_404(owner_client, workspace, owner):
    foreign = MembershipFactory(workspace=WorkspaceFactory(), role=Role.MEMBER)
    before = snapshot()
    for method, action_url, data in admin_actions(workspace, foreign)[1:]:
        response = getattr(owner_client, method)(action_url, data)
        assert response.status_code == 404, (method, action_url)
    assert snapshot() == before
