"""Environment variables: typed, with a clear error for every bad value."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from anonmsg.env import (
    database_from_url,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_str,
    env_url,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, False),
        ("", False),
        ("  ", False),
        ("1", True),
        ("true", True),
        ("TRUE", True),
        (" yes ", True),
        ("on", True),
        ("0", False),
        ("false", False),
        ("No", False),
        ("off", False),
    ],
)
def test_booleans_are_read_from_the_usual_spellings(monkeypatch, raw, expected):
    if raw is None:
        monkeypatch.delenv("SOME_FLAG", raising=False)
    else:
        monkeypatch.setenv("SOME_FLAG", raw)
    assert env_bool("SOME_FLAG", False) is expected


@pytest.mark.parametrize("raw", ["2", "maybe", "enabled", "tru"])
def test_a_bad_boolean_names_the_variable_and_the_accepted_values(monkeypatch, raw):
    monkeypatch.setenv("SOME_FLAG", raw)
    with pytest.raises(ImproperlyConfigured) as error:
        env_bool("SOME_FLAG", False)
    assert str(error.value) == (
        f"SOME_FLAG={raw!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off."
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, 30), ("", 30), ("7", 7), (" 12 ", 12), ("0", 0), ("-0", 0)],
)
def test_integers_fall_back_to_the_default_when_unset(monkeypatch, raw, expected):
    if raw is None:
        monkeypatch.delenv("SOME_NUMBER", raising=False)
    else:
        monkeypatch.setenv("SOME_NUMBER", raw)
    assert env_int("SOME_NUMBER", 30, minimum=0) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("thirty", "SOME_NUMBER='thirty' is not a whole number."),
        ("1.5", "SOME_NUMBER='1.5' is not a whole number."),
        ("-1", "SOME_NUMBER=-1 is too small: it must be at least 0."),
        ("1001", "SOME_NUMBER=1001 is too large: it must be at most 1000."),
    ],
)
def test_a_bad_integer_is_a_clear_error(monkeypatch, raw, message):
    monkeypatch.setenv("SOME_NUMBER", raw)
    with pytest.raises(ImproperlyConfigured) as error:
        env_int("SOME_NUMBER", 30, minimum=0, maximum=1000)
    assert str(error.value) == message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ["*"]),
        ("", ["*"]),
        ("example.com", ["example.com"]),
        (" a.example.com , b.example.com ,, ", ["a.example.com", "b.example.com"]),
    ],
)
def test_lists_are_comma_separated(monkeypatch, raw, expected):
    if raw is None:
        monkeypatch.delenv("SOME_LIST", raising=False)
    else:
        monkeypatch.setenv("SOME_LIST", raw)
    assert env_list("SOME_LIST", ["*"]) == expected


def test_strings_treat_empty_as_unset(monkeypatch):
    monkeypatch.setenv("SOME_TEXT", "")
    assert env_str("SOME_TEXT", "default") == "default"
    monkeypatch.setenv("SOME_TEXT", " value ")
    assert env_str("SOME_TEXT", "default") == "value"


def test_choices_are_case_insensitive_and_list_the_options_when_wrong(monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "warning")
    assert env_choice("LOG_LEVEL", "INFO", ["INFO", "WARNING"]) == "WARNING"
    monkeypatch.setenv("LOG_LEVEL", "loud")
    with pytest.raises(ImproperlyConfigured) as error:
        env_choice("LOG_LEVEL", "INFO", ["INFO", "WARNING"])
    assert str(error.value) == "LOG_LEVEL='loud' is not one of: INFO, WARNING."


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://anonmsg.example.com/", "https://anonmsg.example.com"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("https://example.com/anonmsg/", "https://example.com/anonmsg"),
    ],
)
def test_urls_lose_their_trailing_slash(monkeypatch, raw, expected):
    monkeypatch.setenv("PUBLIC_URL", raw)
    assert env_url("PUBLIC_URL") == expected


@pytest.mark.parametrize(
    "raw", ["anonmsg.example.com", "ftp://example.com", "https://", "https://x.com/?a=1"]
)
def test_a_url_without_scheme_or_host_is_a_clear_error(monkeypatch, raw):
    monkeypatch.setenv("PUBLIC_URL", raw)
    with pytest.raises(ImproperlyConfigured) as error:
        env_url("PUBLIC_URL")
    assert f"PUBLIC_URL={raw!r} is not an absolute http/https URL" in str(error.value)


@pytest.mark.parametrize(
    ("url", "engine", "name"),
    [
        ("postgres://postgres@127.0.0.1:5432/anonmsg", "django.db.backends.postgresql", "anonmsg"),
        ("postgresql://u:p@db/anonmsg", "django.db.backends.postgresql", "anonmsg"),
        ("sqlite:////tmp/anonmsg.sqlite3", "django.db.backends.sqlite3", "/tmp/anonmsg.sqlite3"),
    ],
)
def test_database_urls_select_postgresql_or_sqlite(url, engine, name):
    config = database_from_url(url)
    assert config["ENGINE"] == engine
    assert config["NAME"] == name


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("garbage", "DATABASE_URL='garbage' is not a database URL. Use postgres://"),
        ("foo://db/x", "DATABASE_URL='foo://db/x' is not a database URL."),
        ("postgres://u@h:port/db", "DATABASE_URL='postgres://u@h:port/db' is not a database URL."),
        ("mysql://u@h/db", "which anonmsg does not support: use a postgres:// or sqlite:// URL"),
        ("postgres://postgres@127.0.0.1:5432", "names no database"),
    ],
)
def test_a_bad_database_url_is_a_clear_error(url, message):
    with pytest.raises(ImproperlyConfigured) as error:
        database_from_url(url)
    assert message in str(error.value)


def test_database_url_errors_hide_the_password():
    with pytest.raises(ImproperlyConfigured) as error:
        database_from_url("mysql://user:s3cret@db/anonmsg")
    assert "s3cret" not in str(error.value)
    assert "mysql://user:***@db/anonmsg" in str(error.value)


def run_manage(*args, **env_overrides):
    """Run manage.py in a fresh process with the given environment changes (None unsets)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    # Set by tests/conftest.py for Playwright; not part of the environment under test.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    for name, value in env_overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_server_refuses_to_start_with_a_garbage_database_url():
    result = run_manage("check", DATABASE_URL="not a url")
    assert result.returncode != 0
    assert "DATABASE_URL='not a url' is not a database URL" in result.stderr


def test_the_server_refuses_to_start_with_a_bad_integer():
    result = run_manage("check", Q_WORKERS="many")
    assert result.returncode != 0
    assert "Q_WORKERS='many' is not a whole number." in result.stderr


def test_production_mode_requires_a_secret_key():
    result = run_manage(
        "check", ANONMSG_PRODUCTION="1", SECRET_KEY=None, ALLOWED_HOSTS="example.com"
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set to at least 50 random characters" in result.stderr


def test_production_mode_requires_allowed_hosts():
    result = run_manage(
        "check", ANONMSG_PRODUCTION="1", SECRET_KEY="x" * 20 + "y" * 40, ALLOWED_HOSTS=None
    )
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must list this server's host names" in result.stderr
