"""Logging in and out, the password change pages, the home redirect and the health check."""

import pytest
from django.urls import reverse

from anonmsg.tenancy import SESSION_KEY
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

INVALID_LOGIN = (
    "This e-mail and password do not match an account. Check both and try again "
    "(the password is case-sensitive)."
)


def test_logging_in_with_the_right_password_opens_the_dashboard(client, owner, password):
    response = client.post(
        reverse("login"), {"username": "owner@acme.test", "password": password}, follow=True
    )
    assert response.status_code == 200
    assert response.context["user"] == owner
    assert response.context["current_workspace"].name == "Acme"


def test_the_e_mail_may_be_typed_in_another_case(client, owner, password):
    response = client.post(
        reverse("login"), {"username": " Owner@ACME.test ", "password": password}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(owner.pk)


def test_a_wrong_password_is_a_clear_error(client, owner):
    response = client.post(reverse("login"), {"username": "owner@acme.test", "password": "nope"})
    assert response.status_code == 200
    assert INVALID_LOGIN in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_unknown_e_mail_gets_the_same_error(client, db):
    response = client.post(reverse("login"), {"username": "who@x.test", "password": "nope"})
    assert INVALID_LOGIN in response.content.decode()


def test_an_inactive_user_cannot_log_in(client, owner, password):
    owner.is_active = False
    owner.save()
    response = client.post(reverse("login"), {"username": "owner@acme.test", "password": password})
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, "This field is required."),
        ({"username": "owner@acme.test"}, "This field is required."),
        ({"username": "a\x00b", "password": "x"}, "Null characters are not allowed."),
        ({"username": "a" * 5000, "password": "x"}, INVALID_LOGIN),
    ],
)
def test_malformed_login_input_is_a_form_error_not_a_crash(client, db, data, error):
    response = client.post(reverse("login"), data)
    assert response.status_code == 200
    assert error in response.content.decode()


def test_login_does_not_redirect_to_another_site(client, owner, password):
    response = client.post(
        reverse("login") + "?next=https://evil.example/",
        {"username": "owner@acme.test", "password": password, "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_logging_out_ends_the_session(owner_client):
    response = owner_client.post(reverse("logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in owner_client.session


def test_the_password_change_page_keeps_the_workspace_navigation(owner_client, workspace):
    owner_client.get(reverse("settings-inapp", args=[workspace.pk]))
    response = owner_client.get(reverse("password_change"))
    assert response.status_code == 200
    assert response.context["current_workspace"] == workspace
    assert reverse("settings-inapp", args=[workspace.pk]) in response.content.decode()


def test_a_weak_new_password_is_refused_with_reasons(owner_client, password):
    response = owner_client.post(
        reverse("password_change"),
        {"old_password": password, "new_password1": "123", "new_password2": "123"},
    )
    assert response.status_code == 200
    assert "This password is too short." in response.content.decode()


def test_home_opens_the_workspace_used_last(client, db):
    user = UserFactory()
    first, second = WorkspaceFactory(), WorkspaceFactory()
    MembershipFactory(user=user, workspace=first)
    MembershipFactory(user=user, workspace=second)
    client.force_login(user)
    client.get(reverse("settings-inapp", args=[second.pk]))
    assert client.session[SESSION_KEY] == second.pk
    response = client.get(reverse("home"))
    assert response["Location"] == reverse("workspace-home", args=[second.pk])


def test_home_explains_what_to_do_without_any_workspace(client, db):
    client.force_login(UserFactory(username="lonely@x.test"))
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "You are not in any workspace yet" in response.content.decode()


def test_home_sends_visitors_to_the_login_page(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_login_page_renders(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="csrfmiddlewaretoken"' in body
    assert 'autocomplete="current-password"' in body


@pytest.mark.parametrize("method", ["get", "head"])
def test_healthz_reports_ok_with_the_database_reachable(client, db, method):
    response = getattr(client, method)(reverse("healthz"))
    assert response.status_code == 200
    if method == "get":
        assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_refuses_other_methods(client, db):
    assert client.post(reverse("healthz")).status_code == 405


def test_a_missing_page_gets_the_branded_404(owner_client, settings):
    response = owner_client.get("/no-such-page/")
    assert response.status_code == 404
    assert "This page does not exist" in response.content.decode()
