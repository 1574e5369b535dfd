"""Invite → accept in Chromium: the admin copies the link, the invitee sets a password and joins."""

import os
import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from anonmsg.invitations import invite
from anonmsg.models import Membership, Role
from tests.factories import PASSWORD, MembershipFactory, UserFactory, WorkspaceFactory

User = get_user_model()
# Screenshots for a human to look at; never written into the repository.
SCREENSHOTS = os.environ.get("INVITE_SCREENSHOTS")


def screenshot(page, name):
    if SCREENSHOTS:
        for width, height in ((1280, 900), (390, 844)):
            page.set_viewport_size({"width": width, "height": height})
            page.screenshot(path=f"{SCREENSHOTS}/{name}-{width}.png", full_page=True)
        page.set_viewport_size({"width": 1280, "height": 900})


@pytest.mark.browser
def test_an_admin_invites_someone_who_sets_a_password_and_joins(
    browser, page, live_server, transactional_db
):
    workspace = WorkspaceFactory(name="Acme shop")
    MembershipFactory(workspace=workspace, user=UserFactory(username="ann@acme.test"))
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)

    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("E-mail").fill("ann@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/w/*/**")

    page.goto(live_server.url + reverse("settings-members", args=[workspace.pk]))
    form = page.locator("form", has=page.get_by_role("button", name="Send invitation"))
    form.get_by_label("E-mail").fill("Bob@Acme.test")
    form.get_by_label("Role").select_option("admin")
    form.get_by_role("button", name="Send invitation").click()

    link = page.locator("#invite-link")
    link.wait_for()
    assert page.url.endswith("/settings/members/")  # htmx swapped the region in place
    invite_url = link.inner_text().strip()
    assert invite_url.startswith(live_server.url + "/invitations/")
    page.get_by_role("button", name="Copy link").click()
    page.get_by_role("button", name="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == invite_url
    row = page.get_by_role("row", name=re.compile("bob@acme.test"))
    assert row.get_by_role("button", name="Revoke the invitation to bob@acme.test").is_visible()
    assert not User.objects.filter(username__iexact="bob@acme.test").exists()
    screenshot(page, "members-invited")

    invitee_context = browser.new_context()
    invitee = invitee_context.new_page()
    invitee.set_default_timeout(10_000)
    try:
        invitee.goto(invite_url)
        invitee.get_by_role("heading", name="Join Acme shop").wait_for()
        assert invitee.get_by_label("E-mail").input_value() == "bob@acme.test"
        screenshot(invitee, "invitation-sign-up")
        invitee.get_by_label("Password", exact=True).fill("a quiet lighthouse 1987")
        invitee.get_by_label("Password again").fill("a quiet lighthouse 1987")
        invitee.get_by_role("button", name="Create account and join").click()
        invitee.wait_for_url(f"**/w/{workspace.pk}/**")
        invitee.get_by_text("Welcome to Acme shop: you are an admin of this workspace.").wait_for()

        bob = User.objects.get(username="bob@acme.test")
        assert bob.check_password("a quiet lighthouse 1987")
        assert Membership.objects.get(workspace=workspace, user=bob).role == Role.ADMIN

        # The link is spent.
        invitee.goto(invite_url)
        invitee.get_by_role("heading", name="This invitation was already used").wait_for()

        # A link for someone else, opened while logged in as Bob: log out and continue.
        carol = invite(
            workspace=workspace, email="carol@acme.test", role=Role.MEMBER, invited_by=bob
        )
        invitee.goto(f"{live_server.url}/invitations/{carol.token}/")
        invitee.get_by_text("You are logged in as bob@acme.test.").wait_for()
        screenshot(invitee, "invitation-wrong-account")
        invitee.get_by_role("button", name="Log out and continue").click()
        invitee.get_by_role("button", name="Create account and join").wait_for()
        assert invitee.get_by_label("E-mail").input_value() == "carol@acme.test"

        invitee.goto(invite_url)
        invitee.get_by_role("heading", name="This invitation was already used").wait_for()
        screenshot(invitee, "invitation-used")
    finally:
        invitee_context.route("**/*", lambda route: route.abort())
        invitee_context.close()
