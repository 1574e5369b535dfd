"""Operations: create_workspace (DESIGN.md §3) and the idempotent seed_demo."""

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from anonmsg.demo import DEMO_EMAIL, DEMO_PASSWORD, DEMO_WORKSPACE
from anonmsg.keys import hash_api_key
from anonmsg.models import Membership, Role, Workspace
from tests.factories import UserFactory

User = get_user_model()


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_workspace_prints_one_json_object_with_exactly_the_documented_keys(db):
    out, err = run(
        "create_workspace",
        "Acme",
        "--plan",
        "premium",
        "--owner",
        "Ann@Acme.test",
        "--password",
        "s3cret-pass",
        "--json",
    )
    payload = json.loads(out)
    assert list(payload) == ["id", "name", "plan", "writeKey", "apiKey", "owner"]
    workspace = Workspace.objects.get()
    assert payload == {
        "id": workspace.pk,
        "name": "Acme",
        "plan": "premium",
        "writeKey": workspace.write_key,
        "apiKey": payload["apiKey"],
        "owner": "ann@acme.test",
    }
    assert workspace.api_key_hash == hash_api_key(payload["apiKey"])
    owner = User.objects.get(username="ann@acme.test")
    assert owner.check_password("s3cret-pass")
    assert Membership.objects.get(workspace=workspace).role == Role.ADMIN
    assert err == ""


def test_create_workspace_with_json_and_no_password_reports_it_on_stderr_only(db):
    out, err = run("create_workspace", "Acme", "--owner", "ann@acme.test", "--json")
    assert set(json.loads(out)) == {"id", "name", "plan", "writeKey", "apiKey", "owner"}
    password = err.strip().rsplit(": ", 1)[1]
    assert User.objects.get(username="ann@acme.test").check_password(password)


def test_create_workspace_prints_keys_as_text_by_default(db):
    out, _ = run("create_workspace", "Acme", "--plan", "enterprise", "--owner", "ann@acme.test")
    workspace = Workspace.objects.get()
    assert f"Created workspace 'Acme' (id {workspace.pk}, plan enterprise)." in out
    assert "Owner:       ann@acme.test (new user, admin)" in out
    assert f"Write key:   {workspace.write_key}" in out
    api_key = next(line for line in out.splitlines() if line.startswith("App API key:")).split()[-1]
    assert workspace.api_key_hash == hash_api_key(api_key)
    assert "Password:    " in out


def test_create_workspace_reuses_an_existing_owner_and_keeps_their_password(db):
    user = UserFactory(username="ann@acme.test")
    run("create_workspace", "First", "--owner", "ANN@acme.test")
    out, _ = run("create_workspace", "Second", "--owner", "ann@acme.test")
    assert "(existing user, admin)" in out
    assert "Password:" not in out
    assert User.objects.count() == 1
    user.refresh_from_db()
    assert user.check_password("correct horse battery staple")
    assert set(Workspace.objects.for_user(user).values_list("name", flat=True)) == {
        "First",
        "Second",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Acme", "--owner", "not-an-email"], "--owner 'not-an-email' is not a valid e-mail"),
        (["Acme", "--owner", ""], "is not a valid e-mail address"),
        (
            ["Acme", "--owner", "a@b.test", "--plan", "gold"],
            "--plan 'gold' is not a plan: use one of free, premium, enterprise.",
        ),
        (["  ", "--owner", "a@b.test"], "The workspace name cannot be empty."),
        (["x" * 101, "--owner", "a@b.test"], "name: Ensure this value has at most 100 characters"),
        (["Acme", "--owner", "a@b.test", "--password", ""], "--password cannot be empty."),
        (["Acme"], "the following arguments are required: --owner"),
    ],
)
def test_create_workspace_explains_bad_input_and_writes_nothing(db, args, message):
    with pytest.raises(CommandError) as error:
        run("create_workspace", *args)
    assert message in str(error.value)
    assert not Workspace.objects.exists()
    assert not User.objects.exists()


def test_seed_demo_is_idempotent(db):
    first, _ = run("seed_demo")
    run("seed_demo")
    assert Workspace.objects.count() == 1
    assert User.objects.count() == 1
    workspace = Workspace.objects.get()
    assert (workspace.name, workspace.plan) == (DEMO_WORKSPACE, "premium")
    user = User.objects.get()
    assert user.username == DEMO_EMAIL
    assert user.check_password(DEMO_PASSWORD)
    assert user.is_staff
    assert Membership.objects.get().role == Role.ADMIN
    assert f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}" in first


def test_seed_demo_repairs_a_changed_password_and_plan(db):
    run("seed_demo")
    user = User.objects.get()
    user.set_password("something else")
    user.save()
    Workspace.objects.update(plan="free")
    run("seed_demo")
    assert User.objects.get().check_password(DEMO_PASSWORD)
    assert Workspace.objects.get().plan == "premium"
    assert Workspace.objects.count() == 1


def test_seed_demo_creates_nothing_in_production_mode(db, settings):
    # The demo login is for development only (issue 10): no --force any more.
    settings.PRODUCTION = True
    out, _ = run("seed_demo")
    assert "Production mode: no demo workspace created" in out
    assert not User.objects.exists()
