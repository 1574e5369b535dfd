"""Settings → Members: everyone sees who is in the workspace; admins add, change and remove."""

import html
import re

import pytest
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse

from anonmsg.members import add_member
from anonmsg.models import Membership, Role
from tests.factories import PASSWORD, MembershipFactory, UserFactory, WorkspaceFactory

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
    )


def shown_password(response) -> str:
    match = re.search(
        r'<code class="key" id="new-password">([^<]+)</code>', response.content.decode()
    )
    assert match, "the one-time password is not on the page"
    return match[1]


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
    assert url("settings-member-add", workspace) not in body
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
    assert url("settings-member-add", workspace) in body
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


# --- Adding ----------------------------------------------------------------------------------


def test_an_admin_adds_an_existing_user_who_keeps_their_password(owner_client, workspace, owner):
    ann = UserFactory(username="ann@example.com")
    MembershipFactory(user=ann)  # already in another workspace
    password_hash = ann.password

    response = owner_client.post(
        url("settings-member-add", workspace), {"email": " Ann@Example.COM ", "role": "admin"}
    )

    assert response.status_code == 200
    membership = Membership.objects.get(workspace=workspace, user=ann)
    assert membership.role == Role.ADMIN
    ann.refresh_from_db()
    assert ann.password == password_hash
    assert User.objects.filter(username__iexact="ann@example.com").count() == 1
    body = text(response)
    assert "ann@example.com already had an account." in body
    assert 'id="new-password"' not in body


def test_adding_a_new_e_mail_creates_an_account_whose_password_is_shown_once(
    owner_client, workspace, owner
):
    response = owner_client.post(
        url("settings-member-add", workspace), {"email": "New.Person@Example.com", "role": "member"}
    )

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    password = shown_password(response)
    assert len(password) >= 16
    body = text(response)
    assert "it will not be shown again" in body
    assert "share this password with them; they can change it under Account" in body
    assert "sends no e-mail" in body

    user = User.objects.get(username="new.person@example.com")
    assert user.email == "new.person@example.com"
    assert Membership.objects.get(workspace=workspace, user=user).role == Role.MEMBER
    assert password not in user.password  # stored as a hash only
    assert user.check_password(password)

    # Never shown again.
    assert password not in owner_client.get(url("settings-members", workspace)).content.decode()

    # They can log in with it, case-insensitively, and see the workspace.
    newcomer = Client()
    # A request, for login-throttling backends that need one (django-axes).
    assert newcomer.login(
        request=HttpRequest(), username="new.person@example.com", password=password
    )
    assert newcomer.get(url("settings-members", workspace)).status_code == 200


def test_adding_over_htmx_answers_the_members_region_with_the_password(
    owner_client, workspace, owner
):
    response = owner_client.post(
        url("settings-member-add", workspace),
        {"email": "pat@example.com", "role": "member"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="members"')
    assert "<html" not in body
    assert "pat@example.com" in body
    assert User.objects.get(username="pat@example.com").check_password(shown_password(response))
    assert 'hx-swap-oob="true"' in body  # the flash message


def test_adding_someone_who_is_already_a_member_is_a_form_error(
    owner_client, workspace, owner, member
):
    before = snapshot()
    response = owner_client.post(
        url("settings-member-add", workspace), {"email": "MAX@acme.test", "role": "admin"}
    )
    assert response.status_code == 400
    assert "max@acme.test is already a member of this workspace." in text(response)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"email": "not-an-email", "role": "member"}, "Enter a valid email address."),
        ({"email": "", "role": "member"}, "This field is required."),
        ({"email": "a@" + "b" * 150 + ".com", "role": "member"}, "at most 150 characters"),
        ({"email": "ok@example.com", "role": "owner"}, "Select a valid choice."),
        ({"email": "ok@example.com"}, "This field is required."),
        ({"email": ["a@example.com", "b@example.com"], "role": "admin\x00"}, "valid choice"),
    ],
)
def test_bad_input_when_adding_is_a_form_error_and_writes_nothing(
    owner_client, workspace, owner, data, error
):
    before = snapshot()
    response = owner_client.post(url("settings-member-add", workspace), data)
    assert response.status_code == 400
    assert error in text(response)
    assert 'class="field-error"' in response.content.decode()
    assert snapshot() == before


def test_a_form_error_over_htmx_is_swapped_in(owner_client, workspace, owner):
    response = owner_client.post(
        url("settings-member-add", workspace),
        {"email": "nope", "role": "member"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200  # htmx swaps only 2xx answers
    assert "Enter a valid email address." in text(response)
    assert not User.objects.filter(username="nope").exists()


def test_add_member_rejects_an_unknown_role_and_a_bad_e_mail(workspace):
    from django.core.exceptions import ValidationError

    for email, role in (("ok@example.com", "owner"), ("bad", Role.MEMBER)):
        with pytest.raises(ValidationError):
            add_member(workspace=workspace, email=email, role=role)
    assert not User.objects.exists()


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
    assert url("settings-member-add", workspace) not in response.content.decode()


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
            url("settings-member-add", workspace),
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


def test_adding_a_member_needs_the_csrf_token(workspace, owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    before = snapshot()
    response = client.post(
        url("settings-member-add", workspace), {"email": "x@example.com", "role": "admin"}
    )
    assert response.status_code == 403
    assert snapshot() == before


# --- In a real browser -----------------------------------------------------------------------


@pytest.mark.browser
def test_an_admin_adds_a_member_in_the_browser_and_sees_them_in_the_list(
    page, live_server, transactional_db
):
    workspace = WorkspaceFactory(name="Acme shop")
    MembershipFactory(workspace=workspace, user=UserFactory(username="ann@acme.test"))

    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail").fill("ann@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/w/*/**")

    page.goto(live_server.url + url("settings-members", workspace))
    form = page.locator("form", has=page.get_by_role("button", name="Add member"))
    form.get_by_label("E-mail").fill("bob@acme.test")
    form.get_by_label("Role").select_option("admin")
    form.get_by_role("button", name="Add member").click()

    row = page.get_by_role("row", name=re.compile("bob@acme.test"))
    row.wait_for()
    assert row.get_by_label("Role of bob@acme.test").input_value() == "admin"
    password = page.locator("#new-password").inner_text()
    assert User.objects.get(username="bob@acme.test").check_password(password)
    assert page.url.endswith("/settings/members/")  # htmx swapped the region in place
