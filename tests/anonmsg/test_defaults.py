"""Safe defaults (issue 10, finding 4): with no configuration the server runs as users see it.

DEBUG off, a secret key generated on first run (no public fallback), only this machine's host
names, branded error pages (JSON for the APIs), and the demo login in development only.
"""

import json
import stat

import pytest
from django.core import signing
from django.urls import reverse

from anonmsg.demo import DEMO_EMAIL, DEMO_PASSWORD
from anonmsg.env import local_allowed_hosts
from anonmsg.secret_key import PUBLISHED_KEYS, is_known_key, read_or_create_key_file
from delivery.demo_workspace import seed_demo
from delivery.preview.tokens import SALT
from tests.anonmsg.test_env import run_manage
from tests.factories import AnonymousMessageFactory

OLD_FALLBACK_KEY = "dev-only-insecure-key-0123456789-do-not-use-in-production-abcdefghij"
SETTINGS_JSON = (
    "import json; from django.conf import settings as s; print(json.dumps({"
    "'debug': s.DEBUG, 'hosts': s.ALLOWED_HOSTS, 'key': s.SECRET_KEY}))"
)


def bare_env(tmp_path, **overrides):
    """The environment of a fresh clone's `make run`: nothing set but where the key goes."""
    env = {
        "ANONMSG_PRODUCTION": None,
        "DEBUG": None,
        "SECRET_KEY": None,
        "ALLOWED_HOSTS": None,
        "HOST": None,
        "SECRET_KEY_FILE": str(tmp_path / "secret_key"),
    }
    return {**env, **overrides}


def settings_of(tmp_path, **overrides) -> dict:
    result = run_manage(
        "shell", "--no-imports", "-c", SETTINGS_JSON, **bare_env(tmp_path, **overrides)
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- DEBUG, SECRET_KEY, ALLOWED_HOSTS ------------------------------------------------------------


def test_debug_is_off_unless_asked_for(tmp_path):
    assert settings_of(tmp_path)["debug"] is False
    assert settings_of(tmp_path, DEBUG="1")["debug"] is True


def test_the_first_run_generates_a_secret_key_kept_in_a_file_only_its_owner_reads(tmp_path):
    first = settings_of(tmp_path)["key"]
    key_file = tmp_path / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().strip() == first
    assert len(first) >= 50
    assert not is_known_key(first)
    assert settings_of(tmp_path)["key"] == first  # kept across restarts


def test_two_clones_get_different_keys(tmp_path):
    one = settings_of(tmp_path / "a")["key"]
    other = settings_of(tmp_path / "b")["key"]
    assert one != other


def test_a_secret_key_in_the_environment_wins_and_writes_no_file(tmp_path):
    key = "k" * 30 + "0123456789abcdefghij"
    assert settings_of(tmp_path, SECRET_KEY=key)["key"] == key
    assert not (tmp_path / "secret_key").exists()


def test_the_repository_ignores_the_key_file():
    from tests.anonmsg.test_env import REPO

    assert "/.secret_key" in (REPO / ".gitignore").read_text().splitlines()


@pytest.mark.parametrize("key", [OLD_FALLBACK_KEY, "django-insecure-" + "a1b2c3d4e5" * 5])
@pytest.mark.parametrize("production", [None, "1"])
def test_the_server_refuses_to_start_with_a_known_key_when_debug_is_off(tmp_path, key, production):
    result = run_manage(
        "check",
        **bare_env(tmp_path, SECRET_KEY=key, ANONMSG_PRODUCTION=production, ALLOWED_HOSTS="x.test"),
    )
    assert result.returncode != 0
    assert "SECRET_KEY is a publicly known key" in result.stderr


def test_check_deploy_flags_a_known_key(tmp_path):
    # DEBUG on lets the process start, so the checklist is what must catch it.
    result = run_manage(
        "check",
        "--deploy",
        **bare_env(
            tmp_path,
            SECRET_KEY=OLD_FALLBACK_KEY,
            DEBUG="1",
            ANONMSG_PRODUCTION="1",
            ALLOWED_HOSTS="example.com",
            EMAIL_URL="submission://anonmsg:secret@smtp.example.com",
        ),
    )
    assert result.returncode != 0
    assert "anonmsg.E001" in result.stderr
    assert "SECRET_KEY is a publicly known key" in result.stderr


def test_a_preview_token_signed_with_the_old_fallback_key_is_refused(client, workspace):
    # The finding: anyone could sign a token with the public key and read a draft message.
    draft = AnonymousMessageFactory(workspace=workspace, name="Secret launch")
    forged = signing.dumps({"w": workspace.pk, "m": draft.pk}, key=OLD_FALLBACK_KEY, salt=SALT)
    response = client.get(
        "/api/v1/delivery",
        {
            "writeKey": workspace.write_key,
            "anonymousId": "0b9f3f4e-0d5c-4a43-8d0b-6a2b1f6f9c21",
            "url": "https://www.example.com/",
            "preview": forged,
        },
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_preview"
    assert "Secret launch" not in response.content.decode()


def test_known_keys_are_recognised():
    assert is_known_key(OLD_FALLBACK_KEY)
    assert OLD_FALLBACK_KEY in PUBLISHED_KEYS
    assert is_known_key("django-insecure-abc")
    assert not is_known_key("a-random-key-" + "q" * 50)


def test_a_truncated_key_file_is_a_clear_error(tmp_path):
    from django.core.exceptions import ImproperlyConfigured

    path = tmp_path / "key"
    path.write_text("short\n")
    with pytest.raises(ImproperlyConfigured, match="fewer than 50 characters"):
        read_or_create_key_file(path)


@pytest.mark.parametrize(
    ("bound", "expected"),
    [
        ("127.0.0.1", ["127.0.0.1", "localhost", "[::1]"]),
        ("", ["localhost", "127.0.0.1", "[::1]"]),
        ("0.0.0.0", ["localhost", "127.0.0.1", "[::1]"]),
        ("::", ["localhost", "127.0.0.1", "[::1]"]),
        ("192.0.2.7", ["192.0.2.7", "localhost", "127.0.0.1", "[::1]"]),
        ("anonmsg.lan", ["anonmsg.lan", "localhost", "127.0.0.1", "[::1]"]),
        ("::1", ["[::1]", "localhost", "127.0.0.1"]),
    ],
)
def test_allowed_hosts_default_to_the_bound_host_and_loopback(bound, expected):
    assert local_allowed_hosts(bound) == expected


def test_allowed_hosts_follow_the_host_make_run_binds(tmp_path):
    assert settings_of(tmp_path)["hosts"] == ["127.0.0.1", "localhost", "[::1]"]
    assert settings_of(tmp_path, HOST="192.0.2.7")["hosts"][0] == "192.0.2.7"
    assert settings_of(tmp_path, ALLOWED_HOSTS="a.test,b.test")["hosts"] == ["a.test", "b.test"]


# --- Error pages -------------------------------------------------------------------------------


def test_a_missing_page_is_the_branded_page_not_the_debug_page(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "This page does not exist" in body
    assert "anonmsg/app.css" in body
    assert "URLconf" not in body


@pytest.mark.parametrize("path", ["/api/v1/no-such-endpoint", "/v1/nothing"])
def test_a_missing_api_endpoint_answers_json(client, db, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == "not_found"


def test_an_unknown_host_gets_a_branded_400_page(client, db):
    response = client.get(reverse("login"), HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert "This request could not be understood" in response.content.decode()


def test_an_unknown_host_on_the_api_gets_a_json_400(client, db):
    response = client.get("/api/v1/delivery", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"


def test_a_failed_csrf_check_gets_the_branded_page(db):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        reverse("login"), {"username": "a@b.test", "password": "x"}
    )
    assert response.status_code == 403
    body = response.content.decode()
    assert "This form has expired" in body
    assert "anonmsg/app.css" in body


# --- The demo login ------------------------------------------------------------------------------


def test_the_login_page_names_the_demo_login_in_development(client, db, settings):
    settings.PRODUCTION = False
    body = client.get(reverse("login")).content.decode()
    assert "Development mode." in body
    assert DEMO_EMAIL in body and DEMO_PASSWORD in body


def test_the_login_page_says_nothing_of_the_demo_in_production(client, db, settings):
    settings.PRODUCTION = True
    body = client.get(reverse("login")).content.decode()
    assert "Development mode." not in body
    assert DEMO_EMAIL not in body and DEMO_PASSWORD not in body


def test_the_demo_login_works_in_development(client, db, settings):
    settings.PRODUCTION = False
    seed_demo()
    response = client.post(reverse("login"), {"username": DEMO_EMAIL, "password": DEMO_PASSWORD})
    assert response.status_code == 302


def test_production_mode_refuses_the_demo_login_of_a_database_seeded_in_development(
    client, db, settings
):
    seed_demo()  # e.g. by `make run`, before the server was switched to production mode
    settings.PRODUCTION = True
    response = client.post(reverse("login"), {"username": DEMO_EMAIL, "password": DEMO_PASSWORD})
    assert response.status_code == 200
    assert "do not match an account" in response.content.decode()
    admin = client.post(reverse("admin:login"), {"username": DEMO_EMAIL, "password": DEMO_PASSWORD})
    assert admin.status_code == 200
    assert "_auth_user_id" not in client.session
