"""Production mode passes Django's deployment checklist; the task queue is configured safely."""

import json
import secrets

from django.conf import settings
from django_q.conf import Conf

from tests.anonmsg.test_env import run_manage

PRODUCTION_ENV = {
    "ANONMSG_PRODUCTION": "1",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "example.com",
    "EMAIL_URL": "submission://anonmsg:secret@smtp.example.com",
    "EMAIL_HOST": None,
    "DEBUG": None,
    "SECURE_SSL_REDIRECT": None,
    "SECURE_HSTS_SECONDS": None,
}


def test_check_deploy_reports_nothing_in_production_mode():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_fails_when_debug_is_forced_on_in_production():
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", **{**PRODUCTION_ENV, "DEBUG": "1"}
    )
    assert result.returncode != 0
    assert "security.W018" in result.stderr


def test_production_mode_turns_on_secure_cookies_hsts_and_hashed_static_files():
    code = (
        "import json; from django.conf import settings as s; print(json.dumps({"
        "'debug': s.DEBUG, 'session': s.SESSION_COOKIE_SECURE, 'csrf': s.CSRF_COOKIE_SECURE,"
        "'hsts': s.SECURE_HSTS_SECONDS, 'redirect': s.SECURE_SSL_REDIRECT,"
        "'hosts': s.ALLOWED_HOSTS, 'static': s.STORAGES['staticfiles']['BACKEND']}))"
    )
    result = run_manage("shell", "--no-imports", "-c", code, **PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "debug": False,
        "session": True,
        "csrf": True,
        "hsts": 31536000,
        "redirect": True,
        "hosts": ["example.com"],
        "static": "whitenoise.storage.CompressedManifestStaticFilesStorage",
    }


def test_a_task_is_killed_before_the_broker_offers_it_again():
    # With timeout >= retry a slow task would be handed to a second worker while still running.
    assert settings.Q_CLUSTER["timeout"] < settings.Q_CLUSTER["retry"]
    assert Conf.TIMEOUT < Conf.RETRY
    assert Conf.ORM == "default"
