"""Invitations (issue 10, finding 3): admins invite by e-mail; only the invitee joins.

Every branch of the link's life (new account, existing account, wrong account, expired,
revoked, used, replaced) and the takeover of the finding, over real HTTP and the real database.
"""

import difflib
import html
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from anonmsg import invitations
from anonmsg.invitations import DAILY_LIMIT, INVITATION_LIFETIME, PENDING_LIMIT, hash_token
from anonmsg.models import Invitation, Membership, Role, Workspace
from tests.factories import PASSWORD, MembershipFactory, UserFactory, WorkspaceFactory

User = get_user_model()
NEW_PASSWORD = "a quiet lighthouse 1987"


def url(name, workspace, *args):
    return reverse(name, args=[workspace.pk, *args])


def text(response) -> str:
    return html.unescape(response.content.decode())


def shown_link(response) -> str:
    match = re.search(
        r'<code class="key" id="invite-link">([^<]+)</code>', response.content.decode()
    )
    assert match, "the invite link is not on the page"
    return html.unescape(match[1])


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def snapshot():
    """Everything inviting and accepting may write."""
    return (
        sorted(Membership.objects.values_list("workspace_id", "user_id", "role")),
        sorted(User.objects.values_list("username", "password")),
        sorted(
            Invitation.objects.values_list("workspace_id", "email", "accepted_at", "revoked_at")
        ),
    )


def invite(client, workspace, email, role="member"):
    response = client.post(url("settings-member-invite", workspace), {"email": email, "role": role})
    assert response.status_code == 200, text(response)
    return response


def log_in(username, password=PASSWORD) -> Client:
    client = Client()
    # A request, for the login-throttling backend (django-axes).
    assert client.login(request=HttpRequest(), username=username, password=password)
    return client


def sign_up(client, link, password=NEW_PASSWORD, **extra):
    return client.post(
        path_of(link) + "sign-up/", {"password1": password, "password2": password, **extra}
    )


# --- Inviting --------------------------------------------------------------------------------


def test_an_admin_invites_an_address_and_gets_a_link_never_a_password(
    owner_client, workspace, owner, mailoutbox
):
    users_before = sorted(User.objects.values_list("username", "password"))

    response = invite(owner_client, workspace, " New.Person@Example.com ", role="admin")

    assert response["Cache-Control"] == "no-store"
    link = shown_link(response)
    body = text(response)
    assert "We e-mailed an invitation to new.person@example.com." in body
    callout = body[
        body.index('id="invitation-sent"') : body.index("</div>", body.index("invite-link"))
    ]
    assert "password" not in callout.lower()
    assert 'id="new-password"' not in body
    # Nothing exists yet but the invitation: no account, no membership.
    assert sorted(User.objects.values_list("username", "password")) == users_before
    assert not Membership.objects.filter(user__username="new.person@example.com").exists()
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "new.person@example.com",
        Role.ADMIN,
        owner,
    )
    assert invitation.expires_at - invitation.created_at == INVITATION_LIFETIME == timedelta(7)

    # The link carries a random token, stored only as its hash; no guessable id in it.
    token = path_of(link).split("/")[2]
    assert link == f"http://testserver/invitations/{token}/"
    assert len(token) >= 43
    assert invitation.token_hash == hash_token(token) != token
    assert f"/{invitation.pk}/" not in link
    assert token not in str(Invitation.objects.values().get())

    # The e-mail goes to the invitee, with the same link.
    (email,) = mailoutbox
    assert email.to == ["new.person@example.com"]
    assert email.subject == "owner@acme.test invited you to Acme on anonmsg"
    assert link in email.body
    assert "as admin" in email.body
    assert "expires on" in email.body

    # Shown once: the members page lists the invitation, never the link again.
    page = owner_client.get(url("settings-members", workspace))
    assert "new.person@example.com" in text(page)
    assert token not in page.content.decode()


def normalized(body: str, *, email: str, link: str) -> str:
    body = body.replace(email, "EMAIL").replace(link, "LINK")
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", body)
    body = re.sub(r'"X-CSRFToken": "[^"]+"', "CSRF", body)
    body = re.sub(r'nonce="[^"]+"', "NONCE", body)  # a fresh CSP nonce per response
    body = re.sub(r"/w/\d+/", "/w/N/", body)
    return re.sub(r"invitation(s/|-)\d+", r"invitation\1N", body)


def test_inviting_says_the_same_whether_or_not_the_address_has_an_account(
    owner_client, workspace, owner, mailoutbox
):
    """The old form told "already had an account" from "has a new account": an oracle."""
    MembershipFactory(user=UserFactory(username="known@example.com"))  # has an account
    answers = {}
    for email in ("known@example.com", "unknown@example.com"):
        for htmx in (False, True):
            response = owner_client.post(
                url("settings-member-invite", workspace),
                {"email": email, "role": "member"},
                headers={"HX-Request": "true"} if htmx else {},
            )
            link = shown_link(response)
            message = mailoutbox[-1]
            answers[email, htmx] = (
                response.status_code,
                normalized(text(response), email=email, link=link),
                normalized(message.subject + message.body, email=email, link=link),
            )
            Invitation.objects.all().delete()  # the next answer lists the same invitations
    for htmx in (False, True):
        known, unknown = answers["known@example.com", htmx], answers["unknown@example.com", htmx]
        assert known == unknown, "\n".join(
            difflib.unified_diff(known[1].splitlines(), unknown[1].splitlines(), lineterm="")
        )
    assert not User.objects.filter(username="unknown@example.com").exists()


def test_inviting_over_htmx_answers_the_members_region_with_the_link(
    owner_client, workspace, owner
):
    response = owner_client.post(
        url("settings-member-invite", workspace),
        {"email": "pat@example.com", "role": "member"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="members"')
    assert "<html" not in body
    assert 'id="invitation-sent" hx-history="false"' in body
    assert Invitation.objects.get().token_hash == hash_token(
        path_of(shown_link(response)).split("/")[2]
    )


def test_re_inviting_replaces_the_pending_invitation(owner_client, workspace, owner, mailoutbox):
    first = shown_link(invite(owner_client, workspace, "pat@example.com", "member"))
    second = shown_link(invite(owner_client, workspace, "PAT@example.com", "admin"))

    assert first != second
    old, new = Invitation.objects.order_by("created_at", "id")
    assert old.revoked_at is not None and new.revoked_at is None
    assert new.role == Role.ADMIN
    assert Invitation.objects.open().count() == 1
    assert len(mailoutbox) == 2

    visitor = Client()
    response = visitor.get(path_of(first))
    assert response.status_code == 410
    assert "This invitation was withdrawn" in text(response)
    assert "replaced it with a newer invitation" in text(response)
    assert visitor.get(path_of(second)).status_code == 200

    # The list shows it once, with "Send again" (a new link) and "Revoke".
    page = text(owner_client.get(url("settings-members", workspace)))
    assert page.count('<td class="invitation-email">pat@example.com') == 1
    assert "Send the invitation to pat@example.com again" in page
    assert url("settings-member-invitation-revoke", workspace, new.pk) in page


def test_inviting_a_current_member_is_a_form_error(owner_client, workspace, owner):
    MembershipFactory(workspace=workspace, user=UserFactory(username="max@acme.test"))
    before = snapshot()
    response = owner_client.post(
        url("settings-member-invite", workspace), {"email": "MAX@acme.test", "role": "admin"}
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
        ({"email": "a\x00b@example.com", "role": "member"}, "Null characters are not allowed."),
    ],
)
def test_bad_input_when_inviting_is_a_form_error_and_writes_nothing(
    owner_client, workspace, owner, data, error, mailoutbox
):
    before = snapshot()
    response = owner_client.post(url("settings-member-invite", workspace), data)
    assert response.status_code == 400
    assert error in text(response)
    assert 'class="field-error"' in response.content.decode()
    assert snapshot() == before
    assert mailoutbox == []


def test_a_form_error_over_htmx_is_swapped_in(owner_client, workspace, owner):
    response = owner_client.post(
        url("settings-member-invite", workspace),
        {"email": "nope", "role": "member"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200  # htmx swaps only 2xx answers
    assert "Enter a valid email address." in text(response)
    assert not Invitation.objects.exists()


def make_invitations(workspace, count, *, created_at):
    Invitation.objects.bulk_create(
        Invitation(
            workspace=workspace,
            email=f"bulk{n}@example.com",
            token_hash=hash_token(f"bulk-{workspace.pk}-{n}"),
            created_at=created_at,
            expires_at=created_at + INVITATION_LIFETIME,
        )
        for n in range(count)
    )


def test_a_workspace_has_at_most_100_pending_invitations(owner_client, workspace, owner):
    make_invitations(workspace, PENDING_LIMIT, created_at=timezone.now() - timedelta(days=2))
    before = snapshot()
    response = owner_client.post(
        url("settings-member-invite", workspace), {"email": "one@example.com", "role": "member"}
    )
    assert response.status_code == 400
    assert "This workspace already has 100 pending invitations" in text(response)
    assert snapshot() == before

    # Re-sending one of them replaces it, so it stays within the cap.
    invite(owner_client, workspace, "bulk1@example.com")
    # Revoking one makes room.
    Invitation.objects.filter(email="bulk2@example.com").update(revoked_at=timezone.now())
    invite(owner_client, workspace, "one@example.com")


def test_a_workspace_sends_at_most_300_invitations_a_day(owner_client, workspace, owner):
    recent = timezone.now() - timedelta(hours=1)
    make_invitations(workspace, DAILY_LIMIT, created_at=recent)
    Invitation.objects.update(revoked_at=recent)  # e.g. re-sent again and again
    before = snapshot()
    response = owner_client.post(
        url("settings-member-invite", workspace), {"email": "one@example.com", "role": "member"}
    )
    assert response.status_code == 400
    assert "sent 300 invitations in the last 24 hours" in text(response)
    assert snapshot() == before


def test_when_the_mail_server_refuses_the_admin_still_gets_the_link(
    owner_client, workspace, owner, settings
):
    # A real SMTP connection to a port of this test's range where nothing listens.
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9139, "timeout": 2},
        }
    }
    response = invite(owner_client, workspace, "pat@example.com")
    assert "The invitation e-mail to pat@example.com could not be sent." in text(response)
    link = shown_link(response)
    assert Client().get(path_of(link)).status_code == 200


def test_without_e_mail_the_admin_is_told_to_send_the_link(
    owner_client, workspace, owner, settings, mailoutbox
):
    settings.ANONMSG_SENDS_EMAIL = False
    response = invite(owner_client, workspace, "pat@example.com")
    body = text(response)
    assert "<strong>Send this invitation link to pat@example.com</strong>" in body
    assert "(this server sends no e-mail)" in body
    shown_link(response)
    assert mailoutbox == []


def test_a_workspace_name_cannot_break_the_e_mail_headers(client, db, mailoutbox):
    workspace = WorkspaceFactory(name="Acme\r\nBcc: everyone@example.com")
    admin = MembershipFactory(workspace=workspace).user
    client.force_login(admin)
    invite(client, workspace, "pat@example.com")
    (email,) = mailoutbox
    assert email.subject.endswith("invited you to Acme Bcc: everyone@example.com on anonmsg")
    assert email.recipients() == ["pat@example.com"]


def test_the_old_one_time_password_route_is_gone(owner_client, workspace, owner):
    before = snapshot()
    response = owner_client.post(
        f"/w/{workspace.pk}/settings/members/add/", {"email": "x@example.com", "role": "admin"}
    )
    assert response.status_code == 404
    assert snapshot() == before


# --- Revoking --------------------------------------------------------------------------------


def test_an_admin_revokes_an_invitation_and_its_link_stops_working(owner_client, workspace, owner):
    link = shown_link(invite(owner_client, workspace, "pat@example.com"))
    invitation = Invitation.objects.get()
    revoke_url = url("settings-member-invitation-revoke", workspace, invitation.pk)

    response = owner_client.post(revoke_url)
    assert response.status_code == 302
    assert response["Location"] == url("settings-members", workspace)
    assert "The invitation to pat@example.com was revoked." in text(
        owner_client.get(response["Location"])
    )
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None

    visitor = Client()
    page = visitor.get(path_of(link))
    assert page.status_code == 410
    assert "This invitation was withdrawn" in text(page)
    before = snapshot()
    assert sign_up(visitor, link).status_code == 410
    assert snapshot() == before

    # Again, over htmx: nothing left to revoke, the fresh list comes back.
    response = owner_client.post(revoke_url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "was no longer open" in text(response)
    assert f'id="invitation-{invitation.pk}"' not in response.content.decode()


# --- Who may do what -------------------------------------------------------------------------


@pytest.fixture
def member_client(workspace):
    member = MembershipFactory(
        workspace=workspace, role=Role.MEMBER, user=UserFactory(username="max@acme.test")
    )
    client = Client()
    client.force_login(member.user)
    return client


def test_a_member_cannot_invite_or_revoke_or_see_invitations(
    member_client, owner_client, workspace, owner, mailoutbox
):
    invite(owner_client, workspace, "pending@example.com")
    invitation = Invitation.objects.get()
    mailoutbox.clear()
    before = snapshot()
    response = member_client.post(
        url("settings-member-invite", workspace), {"email": "x@example.com", "role": "admin"}
    )
    assert response.status_code == 403
    response = member_client.post(
        url("settings-member-invitation-revoke", workspace, invitation.pk)
    )
    assert response.status_code == 403
    assert snapshot() == before
    assert mailoutbox == []
    page = text(member_client.get(url("settings-members", workspace)))
    assert "pending@example.com" not in page
    assert url("settings-member-invite", workspace) not in page


def test_another_workspaces_invitation_is_a_404(owner_client, workspace, owner):
    other = WorkspaceFactory(name="Globex")
    foreign = invitations.invite(
        workspace=other,
        email="pat@example.com",
        role=Role.MEMBER,
        invited_by=MembershipFactory(workspace=other).user,
    ).invitation
    before = snapshot()
    response = owner_client.post(url("settings-member-invitation-revoke", workspace, foreign.pk))
    assert response.status_code == 404
    assert snapshot() == before
    assert "pat@example.com" not in text(owner_client.get(url("settings-members", workspace)))


def test_an_outsider_gets_404_on_inviting_and_revoking(outsider_client, workspace, owner):
    invitation = invitations.invite(
        workspace=workspace, email="pat@example.com", role=Role.MEMBER, invited_by=owner
    ).invitation
    before = snapshot()
    for action_url in (
        url("settings-member-invite", workspace),
        url("settings-member-invitation-revoke", workspace, invitation.pk),
    ):
        assert outsider_client.post(action_url, {"email": "x@example.com"}).status_code == 404
    assert snapshot() == before


def test_every_invitation_form_needs_the_csrf_token(workspace, owner):
    new = invitations.invite(
        workspace=workspace, email="pat@example.com", role=Role.MEMBER, invited_by=owner
    )
    admin = Client(enforce_csrf_checks=True)
    admin.force_login(owner)
    before = snapshot()
    assert (
        admin.post(
            url("settings-member-invite", workspace), {"email": "x@example.com", "role": "admin"}
        ).status_code
        == 403
    )
    assert (
        admin.post(
            url("settings-member-invitation-revoke", workspace, new.invitation.pk)
        ).status_code
        == 403
    )
    invitee = Client(enforce_csrf_checks=True)
    link = f"http://testserver/invitations/{new.token}/"
    assert sign_up(invitee, link).status_code == 403
    UserFactory(username="pat@example.com")
    invitee.force_login(User.objects.get(username="pat@example.com"))
    assert invitee.post(path_of(link) + "accept/").status_code == 403
    assert Invitation.objects.get().accepted_at is None
    assert not Membership.objects.filter(user__username="pat@example.com").exists()
    assert snapshot()[2] == before[2]


# --- Accepting: a new account ----------------------------------------------------------------


def test_a_new_invitee_chooses_their_own_password_and_joins(owner_client, workspace, owner):
    link = shown_link(invite(owner_client, workspace, "New.Person@Example.com", role="admin"))
    invitee = Client()

    page = invitee.get(path_of(link))
    assert page.status_code == 200
    assert page["Cache-Control"].startswith("max-age=0")
    assert page["Referrer-Policy"] == "same-origin"  # the link never reaches other sites
    body = text(page)
    assert "Join Acme" in body
    invited = (
        "owner@acme.test invited <strong>new.person@example.com</strong> to join Acme on anonmsg "
        "as an admin."
    )
    assert invited in body
    assert "choose a password that only you know" in body
    assert 'name="password1"' in body and 'name="csrfmiddlewaretoken"' in body

    response = sign_up(invitee, link)
    assert response.status_code == 302
    assert response["Location"] == reverse("workspace-home", args=[workspace.pk])

    user = User.objects.get(username="new.person@example.com")
    assert user.email == "new.person@example.com"
    assert user.check_password(NEW_PASSWORD)
    assert Membership.objects.get(workspace=workspace, user=user).role == Role.ADMIN
    invitation = Invitation.objects.get()
    assert invitation.accepted_by == user and invitation.accepted_at is not None

    # Logged in as the new account, welcomed in the workspace.
    landing = invitee.get(response["Location"], follow=True)
    assert landing.status_code == 200
    assert "Welcome to Acme: you are an admin of this workspace." in text(landing)
    assert (
        log_in("new.person@example.com", NEW_PASSWORD)
        .get(url("settings-members", workspace))
        .status_code
        == 200
    )


@pytest.mark.parametrize(
    ("password1", "password2", "error"),
    [
        ("123", "123", "This password is too short."),
        ("password", "password", "This password is too common."),
        ("new.person@example.com", "new.person@example.com", "too similar to the"),
        (NEW_PASSWORD, NEW_PASSWORD + "x", "The two password fields didn’t match."),
        ("", "", "This field is required."),
    ],
)
def test_a_bad_password_is_a_form_error_and_writes_nothing(
    owner_client, workspace, owner, password1, password2, error
):
    link = shown_link(invite(owner_client, workspace, "new.person@example.com"))
    before = snapshot()
    response = Client().post(
        path_of(link) + "sign-up/", {"password1": password1, "password2": password2}
    )
    assert response.status_code == 400
    assert error in text(response)
    assert snapshot() == before


def test_a_forwarded_link_only_ever_creates_the_invited_address(owner_client, workspace, owner):
    link = shown_link(invite(owner_client, workspace, "pat@example.com"))
    response = sign_up(Client(), link, email="mallory@evil.test", username="mallory@evil.test")
    assert response.status_code == 302
    assert not User.objects.filter(username__icontains="mallory").exists()
    assert Membership.objects.get(workspace=workspace, user__username="pat@example.com")


def test_sign_up_never_touches_an_existing_accounts_password(owner_client, workspace, owner):
    """Anyone holding the link must not be able to reset the invitee's password with it."""
    link = shown_link(invite(owner_client, workspace, "pat@example.com"))
    UserFactory(username="Pat@Example.com")  # created meanwhile, in another case
    before = snapshot()

    response = sign_up(Client(), link)

    assert response.status_code == 409
    assert "Log in as pat@example.com to accept." in text(response)
    assert snapshot() == before


# --- Accepting: an existing account ----------------------------------------------------------


def test_an_existing_account_logs_in_and_accepts_keeping_its_password(
    owner_client, workspace, owner
):
    ann = UserFactory(username="ann@example.com")
    MembershipFactory(user=ann)  # already in another workspace
    password_hash = ann.password
    link = shown_link(invite(owner_client, workspace, "Ann@Example.com", role="member"))

    invitee = Client()
    page = invitee.get(path_of(link))
    assert page.status_code == 200
    assert "Log in as ann@example.com to accept." in text(page)
    login_url = f"{reverse('login')}?next={path_of(link)}"
    assert login_url in page.content.decode()

    # The real login form, coming back to the link.
    response = invitee.post(
        reverse("login"),
        {"username": "ANN@example.com", "password": PASSWORD, "next": path_of(link)},
    )
    assert response.status_code == 302 and response["Location"] == path_of(link)
    page = invitee.get(path_of(link))
    assert 'action="' + path_of(link) + 'accept/"' in page.content.decode()
    assert "Join Acme" in text(page)
    assert not Membership.objects.filter(workspace=workspace, user=ann).exists()  # not yet

    response = invitee.post(path_of(link) + "accept/")
    assert response.status_code == 302
    assert response["Location"] == reverse("workspace-home", args=[workspace.pk])
    assert Membership.objects.get(workspace=workspace, user=ann).role == Role.MEMBER
    ann.refresh_from_db()
    assert ann.password == password_hash
    assert "Welcome to Acme: you are a member of this workspace." in text(
        invitee.get(response["Location"], follow=True)
    )


def test_accepting_as_a_current_member_keeps_the_role(owner_client, workspace, owner):
    link = shown_link(invite(owner_client, workspace, "ann@example.com", role="admin"))
    ann = MembershipFactory(
        workspace=workspace, role=Role.MEMBER, user=UserFactory(username="ann@example.com")
    ).user
    response = log_in("ann@example.com").post(path_of(link) + "accept/")
    assert response.status_code == 302
    assert Membership.objects.get(workspace=workspace, user=ann).role == Role.MEMBER
    assert Invitation.objects.get().accepted_by == ann


def test_someone_logged_in_as_another_account_cannot_accept(owner_client, workspace, owner):
    link = shown_link(invite(owner_client, workspace, "pat@example.com"))
    carol = MembershipFactory(user=UserFactory(username="carol@example.com")).user
    forwarded_to = log_in("carol@example.com")

    page = forwarded_to.get(path_of(link))
    assert page.status_code == 200
    body = text(page)
    assert "You are logged in as carol@example.com." in body
    assert "This invitation is for pat@example.com: only that account can accept it." in body
    assert f'action="{reverse("logout")}"' in body
    assert f'name="next" value="{path_of(link)}"' in body

    before = snapshot()
    assert forwarded_to.post(path_of(link) + "accept/").status_code == 403
    assert sign_up(forwarded_to, link).status_code == 409
    assert snapshot() == before
    assert not Membership.objects.filter(workspace=workspace, user=carol).exists()

    # "Log out and continue" comes back to the link, now asking for the invited account.
    response = forwarded_to.post(reverse("logout"), {"next": path_of(link)})
    assert response.status_code == 302 and response["Location"] == path_of(link)
    assert "choose a password" in text(forwarded_to.get(path_of(link)))


def test_an_accepted_link_cannot_be_used_again(owner_client, workspace, owner):
    link = shown_link(invite(owner_client, workspace, "pat@example.com"))
    assert sign_up(Client(), link).status_code == 302

    before = snapshot()
    for client in (Client(), log_in("pat@example.com", NEW_PASSWORD)):
        page = client.get(path_of(link))
        assert page.status_code == 410
        assert "This invitation was already used" in text(page)
        assert client.post(path_of(link) + "accept/").status_code == 410
        assert sign_up(client, link, password="another pass phrase 42").status_code == 410
    assert snapshot() == before


def test_a_claimed_invitation_is_refused_to_a_second_accept_in_flight(workspace, owner):
    """Two tabs accepting at once: the conditional update lets exactly one through."""
    new = invitations.invite(
        workspace=workspace, email="pat@example.com", role=Role.MEMBER, invited_by=owner
    )
    stale = Invitation.objects.get()  # read by the second request before the first commits
    pat = UserFactory(username="pat@example.com")
    invitations.accept(invitation=new.invitation, user=pat)
    with pytest.raises(invitations.InvitationUnavailable):
        invitations.accept(invitation=stale, user=pat)
    assert Membership.objects.filter(workspace=workspace, user=pat).count() == 1

    new = invitations.invite(
        workspace=workspace, email="sam@example.com", role=Role.MEMBER, invited_by=owner
    )
    stale = Invitation.objects.get(pk=new.invitation.pk)
    sam = invitations.create_account_and_accept(invitation=new.invitation, password=NEW_PASSWORD)
    with pytest.raises(invitations.InvitationUnavailable):
        invitations.accept(invitation=stale, user=sam)


def test_an_expired_link_shows_what_to_do_and_does_nothing(owner_client, workspace, owner):
    new = invitations.invite(
        workspace=workspace,
        email="pat@example.com",
        role=Role.MEMBER,
        invited_by=owner,
        now=timezone.now() - INVITATION_LIFETIME - timedelta(seconds=1),
    )
    link = f"http://testserver/invitations/{new.token}/"
    before = snapshot()
    visitor = Client()
    page = visitor.get(path_of(link))
    assert page.status_code == 410
    body = text(page)
    assert "This invitation has expired" in body
    assert "Invitations work for 7 days: this one, to join Acme, expired on" in body
    assert "Ask owner@acme.test to invite you again" in body
    assert sign_up(visitor, link).status_code == 410
    UserFactory(username="pat@example.com")
    before = snapshot()
    assert log_in("pat@example.com").post(path_of(link) + "accept/").status_code == 410
    assert snapshot() == before

    # The admin sees it expired, and sends it again.
    members_page = text(owner_client.get(url("settings-members", workspace)))
    assert '<span class="badge badge-paused">Expired</span>' in members_page
    assert invite(owner_client, workspace, "pat@example.com")


@pytest.mark.parametrize("token", ["nope", "x" * 43, "x" * 5000, "%00", "a.b"])
def test_an_unknown_link_is_a_branded_404(client, db, token):
    response = client.get(f"/invitations/{token}/")
    assert response.status_code == 404
    body = text(response)
    assert "This invitation link does not work" in body
    assert "ask the admin who invited you to send a new one" in body
    assert 'class="auth"' in body  # the public, branded layout
    assert f'href="{reverse("login")}">Log in</a>' in body  # what to do next
    assert client.post(f"/invitations/{token}/sign-up/").status_code == 404
    assert client.post(f"/invitations/{token}/accept/").status_code == 404


# --- The takeover of the finding -------------------------------------------------------------


def test_an_admin_of_one_workspace_cannot_get_into_another_through_invitations(db, mailoutbox):
    """Issue 10, finding 3: A's admin added an address, saw its password, and when B later added
    the same address, logged into B with it. Now: A's admin never sees a password, B's
    invitation says nothing about A's, and only B's own link (sent to the address) joins B."""
    a, b = WorkspaceFactory(name="A"), WorkspaceFactory(name="B")
    mallory = MembershipFactory(workspace=a, user=UserFactory(username="mallory@a.test")).user
    bea = MembershipFactory(workspace=b, user=UserFactory(username="bea@b.test")).user
    as_mallory, as_bea = Client(), Client()
    as_mallory.force_login(mallory)
    as_bea.force_login(bea)

    a_link = shown_link(invite(as_mallory, a, "victim@x.test"))
    assert not User.objects.filter(username="victim@x.test").exists()
    # The worst A's admin can do with A's link: create the victim's account themselves.
    assert sign_up(Client(), a_link, password="mallory knows this 1").status_code == 302

    b_response = invite(as_bea, b, "victim@x.test", role="admin")
    b_link = shown_link(b_response)
    assert "victim@x.test" in mailoutbox[-1].to
    assert "already" not in text(b_response)  # no "they log in with their usual password"

    # With the password they chose, A's admin reaches nothing of B...
    attacker = log_in("victim@x.test", "mallory knows this 1")
    assert attacker.get(url("settings-members", b)).status_code == 404
    victim = User.objects.get(username="victim@x.test")
    assert list(Workspace.objects.for_user(victim)) == [a]
    # ...A's link is spent, and cannot be turned into B's...
    assert attacker.post(path_of(a_link) + "accept/").status_code == 410
    # ...and B's own link is needed to join B: the invitation is still pending.
    assert Invitation.objects.get(workspace=b).accepted_at is None
    assert not Membership.objects.filter(workspace=b, user__username="victim@x.test").exists()
    assert b_link not in str(list(Invitation.objects.values()))


# --- An admin who goes -----------------------------------------------------------------------


@pytest.mark.parametrize("change", ["remove", "demote"])
def test_an_admin_who_is_removed_or_demoted_cannot_come_back_through_their_invitations(
    owner_client, workspace, owner, change
):
    """A rogue admin could invite an address of their own, then be removed, then accept."""
    rogue = MembershipFactory(
        workspace=workspace, role=Role.ADMIN, user=UserFactory(username="rogue@acme.test")
    )
    as_rogue = Client()
    as_rogue.force_login(rogue.user)
    rogue_link = shown_link(invite(as_rogue, workspace, "rogue-alt@evil.test", role="admin"))
    owners_link = shown_link(invite(owner_client, workspace, "pat@example.com"))

    if change == "remove":
        response = owner_client.post(url("settings-member-remove", workspace, rogue.pk))
    else:
        response = owner_client.post(
            url("settings-member-role", workspace, rogue.pk), {"role": "member"}
        )
    assert response.status_code == 302

    assert Client().get(path_of(rogue_link)).status_code == 410
    assert sign_up(Client(), rogue_link).status_code == 410
    assert not User.objects.filter(username="rogue-alt@evil.test").exists()
    # Other admins' invitations are untouched.
    assert Client().get(path_of(owners_link)).status_code == 200
