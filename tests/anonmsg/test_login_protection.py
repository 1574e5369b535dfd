"""Login protection (django-axes): failures lock out a (user name, IP) pair for a while."""

import json
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.anonmsg.test_env import run_manage
from tests.factories import PASSWORD, MembershipFactory, UserFactory

EMAIL = "owner@acme.test"
ATTACKER_IP = "198.51.100.7"
INVALID_LOGIN = "This e-mail and password do not match an account."
LOCKED_OUT = "Too many login attempts"


def log_in(client, password, *, username=EMAIL, ip=ATTACKER_IP, **extra):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip, **extra
    )


def fail(client, times, **kwargs):
    for _ in range(times):
        response = log_in(client, "wrong password", **kwargs)
    return response


def is_logged_in(client):
    return "_auth_user_id" in client.session


@pytest.fixture
def limit():
    return settings.AXES_FAILURE_LIMIT


def test_the_defaults_are_five_failures_and_fifteen_minutes():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60


def test_failures_below_the_limit_still_let_the_right_password_in(client, owner, limit):
    response = fail(client, limit - 1)
    assert response.status_code == 200
    assert INVALID_LOGIN in response.content.decode()

    response = log_in(client, PASSWORD)
    assert response.status_code == 302
    assert is_logged_in(client)


def test_reaching_the_limit_locks_out_even_the_right_password(client, owner, limit):
    response = fail(client, limit)
    assert response.status_code == 429

    response = log_in(client, PASSWORD)
    assert response.status_code == 429
    assert not is_logged_in(client)
    body = response.content.decode()
    assert LOCKED_OUT in body
    assert INVALID_LOGIN not in body


def test_the_lockout_page_says_what_happened_and_when_to_try_again(client, owner, limit):
    fail(client, limit)
    unlocks_at = AccessAttempt.objects.get().attempt_time + timedelta(minutes=15)

    response = log_in(client, PASSWORD)
    body = response.content.decode()
    assert "<title>Too many login attempts · anonmsg</title>" in body
    assert f"as <strong>{EMAIL}</strong> from your network is paused" in body
    assert f"after {limit} failed attempts" in body
    assert f'Try again after <time datetime="{unlocks_at.isoformat()}">' in body
    assert f"{unlocks_at:%H:%M} UTC</time> (in 15 minutes)" in body
    assert 890 <= int(response["Retry-After"]) <= 900
    assert "no-store" in response["Cache-Control"]
    assert 'href="/static/anonmsg/app.css"' in body


def test_another_ip_is_not_locked_out(client, owner, limit):
    fail(client, limit)
    response = log_in(client, PASSWORD, ip="192.0.2.10")
    assert response.status_code == 302
    assert is_logged_in(client)


def test_another_user_at_the_same_ip_is_not_locked_out(client, owner, limit):
    MembershipFactory(user=UserFactory(username="colleague@acme.test"))
    fail(client, limit)
    response = log_in(client, PASSWORD, username="colleague@acme.test")
    assert response.status_code == 302
    assert is_logged_in(client)


def test_changing_the_case_of_the_e_mail_does_not_start_a_new_count(client, owner, limit):
    for i in range(limit):
        log_in(client, "wrong password", username=f" {EMAIL.upper() if i % 2 else EMAIL} ")
    assert log_in(client, PASSWORD, username="Owner@Acme.TEST").status_code == 429
    assert AccessAttempt.objects.get().username == EMAIL


def test_unknown_users_are_counted_too(client, db, limit):
    response = fail(client, limit, username="nobody@acme.test")
    assert response.status_code == 429


def test_a_huge_user_name_is_counted_not_a_crash(client, db, limit):
    response = fail(client, limit, username="a" * 5000)
    assert response.status_code == 429
    assert AccessAttempt.objects.get().username == "a" * 255


def test_the_lockout_ends_when_the_cool_off_has_passed(client, owner, limit):
    fail(client, limit)
    # Move the failures back in time, as if the user had waited.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=14))
    assert log_in(client, PASSWORD).status_code == 429

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=15, seconds=1))
    response = log_in(client, PASSWORD)
    assert response.status_code == 302
    assert is_logged_in(client)


def test_attempts_during_a_lockout_do_not_extend_it(client, owner, limit):
    fail(client, limit)
    locked_at = AccessAttempt.objects.get().attempt_time
    fail(client, 3)
    attempt = AccessAttempt.objects.get()
    assert attempt.attempt_time == locked_at
    assert attempt.failures_since_start == limit


def test_a_successful_login_resets_the_count(client, owner, limit):
    fail(client, limit - 1)
    assert log_in(client, PASSWORD).status_code == 302
    assert not AccessAttempt.objects.exists()

    client.post(reverse("logout"))
    response = fail(client, limit - 1)
    assert response.status_code == 200
    assert log_in(client, PASSWORD).status_code == 302


def test_x_forwarded_for_is_ignored_unless_proxies_are_configured(client, owner, limit):
    fail(client, limit, HTTP_X_FORWARDED_FOR="203.0.113.1")
    response = log_in(client, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.2")
    assert response.status_code == 429
    assert AccessAttempt.objects.get().ip_address == ATTACKER_IP


CLIENT_IP_CODE = (
    "from django.test import RequestFactory; from axes.helpers import get_client_ip_address;"
    "import json; request = RequestFactory().post('/accounts/login/', "
    "REMOTE_ADDR='10.0.0.3', HTTP_X_FORWARDED_FOR={forwarded_for!r});"
    "print(json.dumps(get_client_ip_address(request)))"
)


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "client_ip"),
    [
        (None, "192.0.2.50", "10.0.0.3"),
        ("1", "192.0.2.50", "192.0.2.50"),
        # A value the client sent itself is on the left: never used.
        ("1", "6.6.6.6, 192.0.2.50", "192.0.2.50"),
        ("2", "6.6.6.6, 192.0.2.50, 10.0.0.2", "192.0.2.50"),
    ],
)
def test_login_proxy_count_takes_the_client_ip_from_x_forwarded_for(
    proxies, forwarded_for, client_ip
):
    code = CLIENT_IP_CODE.format(forwarded_for=forwarded_for)
    result = run_manage("shell", "--no-imports", "-c", code, LOGIN_PROXY_COUNT=proxies)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == client_ip


def test_the_admin_login_is_protected_too(client, owner, limit):
    owner.is_staff = True
    owner.save()
    fail(client, limit)
    response = client.post(
        reverse("admin:login"), {"username": EMAIL, "password": PASSWORD}, REMOTE_ADDR=ATTACKER_IP
    )
    assert response.status_code == 429
    assert LOCKED_OUT in response.content.decode()


def test_staff_see_and_clear_lockouts_in_the_admin(client, owner, limit):
    fail(client, limit)
    staff = UserFactory(username="staff@anonmsg.test", is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(staff)

    response = admin.get(reverse("admin:axes_accessattempt_changelist"), {"locked_out": "yes"})
    assert response.status_code == 200
    body = response.content.decode()
    assert EMAIL in body
    assert ATTACKER_IP in body
    assert "Locked Out" in body

    attempt = AccessAttempt.objects.get()
    response = admin.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert log_in(client, PASSWORD).status_code == 302


def submit_login_form(page, password):
    page.get_by_label("E-mail").fill("ann@acme.test")
    page.get_by_label("Password").fill(password)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Log in").click()
    return navigation.value


@pytest.mark.browser
def test_a_locked_out_user_sees_the_lockout_message_in_the_browser(
    page, live_server, transactional_db
):
    MembershipFactory(user=UserFactory(username="ann@acme.test"))
    page.goto(live_server.url + reverse("login"))
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert submit_login_form(page, "wrong password").status == 200
        assert "do not match an account" in page.get_by_role("alert").inner_text()

    assert submit_login_form(page, "wrong password").status == 429
    assert page.get_by_role("heading", name="Too many login attempts").is_visible()
    alert = page.get_by_role("alert").inner_text()
    assert "Logging in as ann@acme.test from your network is paused" in alert
    assert "(in 15 minutes)" in alert

    # Back to the form: even the right password is refused until the lock ends.
    page.get_by_role("link", name="Back to log in").click()
    page.wait_for_url("**/accounts/login/")
    assert submit_login_form(page, PASSWORD).status == 429
    assert page.get_by_role("heading", name="Too many login attempts").is_visible()
