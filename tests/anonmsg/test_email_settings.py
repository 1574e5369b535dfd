"""E-mail settings: EMAIL_URL or the EMAIL_HOST family become Django 6.1's MAILERS."""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured

from anonmsg.env import mailer_from_url
from tests.anonmsg.test_deploy import PRODUCTION_ENV
from tests.anonmsg.test_env import run_manage

SMTP = "django.core.mail.backends.smtp.EmailBackend"


def smtp(host, port, username="", password="", *, tls=False, ssl=False, **extra):
    options = {"host": host, "port": port, "username": username, "password": password}
    return {"BACKEND": SMTP, "OPTIONS": {**options, "use_tls": tls, "use_ssl": ssl, **extra}}


@pytest.mark.parametrize(
    ("url", "mailer"),
    [
        (
            "submission://apikey:s%2Fcr%40t@smtp.example.com",
            smtp("smtp.example.com", 587, "apikey", "s/cr@t", tls=True),
        ),
        (
            "smtps://ann%40acme.test:pw@mail.acme.test",
            smtp("mail.acme.test", 465, "ann@acme.test", "pw", ssl=True),
        ),
        ("smtp://relay.lan", smtp("relay.lan", 25)),
        ("smtp://relay.lan:2525/?tls=1&timeout=5", smtp("relay.lan", 2525, tls=True, timeout=5)),
        ("submission://u:p@h:2587?tls=0", smtp("h", 2587, "u", "p")),
        ("console://", {"BACKEND": "django.core.mail.backends.console.EmailBackend"}),
        ("dummy://", {"BACKEND": "django.core.mail.backends.dummy.EmailBackend"}),
    ],
)
def test_e_mail_urls_become_a_mailer(url, mailer):
    assert mailer_from_url(url) == mailer


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("imap://u:secret@h", "has an unknown scheme"),
        ("smtp.example.com", "has an unknown scheme"),
        ("smtp://", "names no mail server"),
        ("smtp://h:99999", "is not a URL"),
        ("smtp://h?starttls=1", "unknown option starttls (known: tls, ssl, timeout)"),
        ("smtp://h?tls=1&ssl=1", "choose tls or ssl, not both"),
        ("smtp://h?tls=maybe", "tls='maybe' is not a boolean (use 1 or 0)"),
        ("smtp://h?timeout=0", "timeout='0' is not a number of seconds"),
    ],
)
def test_a_bad_e_mail_url_is_a_clear_error_without_the_password(url, message):
    with pytest.raises(ImproperlyConfigured) as error:
        mailer_from_url(url)
    assert message in str(error.value)
    assert str(error.value).startswith("EMAIL_URL=")
    assert "secret" not in str(error.value)


SHOW = (
    "import json; from django.conf import settings as s; print(json.dumps({"
    "'mailers': s.MAILERS, 'from': s.DEFAULT_FROM_EMAIL, 'sends': s.ANONMSG_SENDS_EMAIL}))"
)
NO_EMAIL = {"EMAIL_URL": None, "EMAIL_HOST": None, "DEFAULT_FROM_EMAIL": None, "PUBLIC_URL": None}


def settings_with(**env):
    result = run_manage("shell", "--no-imports", "-c", SHOW, **{**NO_EMAIL, **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_development_prints_e_mails_on_the_console_by_default():
    assert settings_with(ANONMSG_PRODUCTION=None) == {
        "mailers": {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}},
        "from": "anonmsg <noreply@localhost>",
        "sends": True,
    }


def test_the_email_host_variables_configure_smtp_with_starttls_and_a_timeout():
    configured = settings_with(
        EMAIL_HOST="smtp.example.com",
        EMAIL_HOST_USER="anonmsg",
        EMAIL_HOST_PASSWORD="pw",
        DEFAULT_FROM_EMAIL="Acme <team@acme.test>",
    )
    assert configured["mailers"] == {
        "default": smtp("smtp.example.com", 587, "anonmsg", "pw", tls=True, timeout=10)
    }
    assert configured["from"] == "Acme <team@acme.test>"


def test_production_without_a_mail_server_starts_sends_none_and_passes_the_deploy_check():
    # Operators who set only SECRET_KEY and ALLOWED_HOSTS (the documented minimum before
    # invitations) keep a server that starts; admins send invitation links themselves.
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", **{**PRODUCTION_ENV, **NO_EMAIL}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    configured = settings_with(**{**PRODUCTION_ENV, **NO_EMAIL})
    assert configured["mailers"] == {"default": {"BACKEND": "anonmsg.mail.NoMailServerBackend"}}
    assert configured["sends"] is False


def test_the_no_mail_server_backend_logs_what_it_did_not_send(caplog):
    from django.core.mail import EmailMessage

    from anonmsg.mail import NoMailServerBackend

    sent = NoMailServerBackend().send_messages([EmailMessage("Hello", "Body", to=["a@b.test"])])
    assert sent == 0
    assert "not sent: 'Hello'" in caplog.text


def test_production_may_choose_no_e_mail_and_the_sender_follows_the_public_url():
    configured = settings_with(
        **{**PRODUCTION_ENV, "EMAIL_URL": "dummy://", "PUBLIC_URL": "https://anonmsg.acme.test"}
    )
    assert configured["sends"] is False
    assert configured["from"] == "anonmsg <noreply@anonmsg.acme.test>"
