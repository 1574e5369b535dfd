"""Preview on the real page: signed short-lived tokens, the dashboard link, the forced message."""

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from anonmsg.models import Plan
from delivery.demo_workspace import seed_demo
from delivery.preview.tokens import (
    PreviewError,
    make_preview_token,
    origin_of,
    preview_url,
    read_preview_token,
    target_problem,
)
from tests.factories import (
    AnonymousMessageFactory,
    MembershipFactory,
    PageRuleFactory,
    ProfileFactory,
    UserFactory,
    VisitorFactory,
    VisitorMessageStateFactory,
    WorkspaceFactory,
)

ANON = "0b9f3f4e-0d5c-4a43-8d0b-6a2b1f6f9c21"


def old_token(monkeypatch, *, seconds_ago: int, **grant) -> str:
    real_time = time.time
    monkeypatch.setattr("django.core.signing.time.time", lambda: real_time() - seconds_ago)
    token = make_preview_token(**grant)
    monkeypatch.undo()
    return token


# --- Tokens ----------------------------------------------------------------------------------


def test_a_token_names_the_workspace_and_the_message():
    grant = read_preview_token(make_preview_token(workspace_id=4, message_id=12))
    assert (grant.workspace_id, grant.message_id) == (4, 12)


def test_a_token_expires_after_an_hour(monkeypatch):
    fresh = old_token(monkeypatch, seconds_ago=59 * 60, workspace_id=4, message_id=12)
    assert read_preview_token(fresh).message_id == 12
    stale = old_token(monkeypatch, seconds_ago=61 * 60, workspace_id=4, message_id=12)
    with pytest.raises(PreviewError) as raised:
        read_preview_token(stale)
    assert raised.value.code == "preview_expired"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-token",
        make_preview_token(workspace_id=4, message_id=12)[:-2] + "xx",
        make_preview_token(workspace_id=4, message_id=12).replace("eyJ", "eyK", 1),
    ],
)
def test_a_forged_or_altered_token_is_refused(token):
    with pytest.raises(PreviewError) as raised:
        read_preview_token(token)
    assert raised.value.code == "invalid_preview"


def test_a_token_signed_for_something_else_is_refused():
    from django.core import signing

    other = signing.dumps({"w": 4, "m": 12})  # default salt: e.g. some other feature's token
    with pytest.raises(PreviewError):
        read_preview_token(other)


# --- Targets ---------------------------------------------------------------------------------

ORIGINS = ["https://www.example.com", "http://localhost:3000"]


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://www.example.com/pricing", True),
        ("https://WWW.example.com:443/pricing?a=1#x", True),
        ("http://localhost:3000/", True),
        ("http://www.example.com/pricing", False),  # another scheme is another origin
        ("https://example.com/pricing", False),
        ("https://www.example.com.evil.test/", False),
        ("http://localhost:3001/", False),
        ("javascript:alert(1)", False),
        ("/pricing", False),
        ("", False),
        ("https://www.example.com/" + "x" * 2000, False),
    ],
)
def test_only_the_workspaces_allowed_origins_can_be_previewed(url, allowed):
    assert (target_problem(url, allowed_origins=ORIGINS) is None) is allowed


def test_the_demo_site_can_be_previewed_when_allowed():
    demo = "http://testserver/demo/"
    assert (
        target_problem("http://testserver/demo/pricing/", allowed_origins=[], demo_prefix=demo)
        is None
    )
    assert target_problem("http://testserver/admin/", allowed_origins=[], demo_prefix=demo)


def test_the_problem_says_how_to_fix_it():
    problem = target_problem("https://shop.test/", allowed_origins=[])
    assert "Settings → Allowed origins" in problem


def test_origins_are_normalised():
    assert origin_of("HTTPS://Shop.Example.com:443/x") == "https://shop.example.com"
    assert origin_of("http://shop.example.com:8080") == "http://shop.example.com:8080"
    assert origin_of("ftp://shop.example.com") == ""


def test_the_preview_url_adds_the_token_and_keeps_the_rest():
    url = preview_url("https://www.example.com/p?a=1&anonmsg_preview=old#faq", token="T")
    assert url == "https://www.example.com/p?a=1&anonmsg_preview=T#faq"


# --- The dashboard link --------------------------------------------------------------------


@pytest.fixture
def message(workspace):
    workspace.allowed_origins = "https://www.example.com"
    workspace.save()
    return AnonymousMessageFactory(workspace=workspace, name="Spring offer")


def preview_link(workspace, message, **query):
    url = reverse("delivery:preview", args=[workspace.pk, message.pk])
    return url, query


def test_the_preview_redirects_to_the_page_with_a_token(owner_client, workspace, message):
    url, query = preview_link(workspace, message, url="https://www.example.com/pricing?a=1")
    response = owner_client.get(url, query)
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert (target.scheme, target.netloc, target.path) == ("https", "www.example.com", "/pricing")
    params = parse_qs(target.query)
    assert params["a"] == ["1"]
    grant = read_preview_token(params["anonmsg_preview"][0])
    assert (grant.workspace_id, grant.message_id) == (workspace.pk, message.pk)
    assert response["Cache-Control"] == "no-store"


def test_without_an_address_the_preview_page_offers_the_allowed_origins(
    owner_client, workspace, message
):
    response = owner_client.get(reverse("delivery:preview", args=[workspace.pk, message.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Spring offer" in body
    assert 'value="https://www.example.com/"' in body


def test_a_foreign_address_is_refused_with_an_explanation(owner_client, workspace, message):
    url, query = preview_link(workspace, message, url="https://evil.test/")
    response = owner_client.get(url, query)
    assert response.status_code == 400
    assert "not one of this workspace" in response.content.decode()


def test_an_outsider_cannot_preview(outsider_client, workspace, message):
    url, query = preview_link(workspace, message, url="https://www.example.com/")
    assert outsider_client.get(url, query).status_code == 404


def test_another_workspaces_message_is_a_404(owner_client, workspace):
    foreign = AnonymousMessageFactory(workspace=WorkspaceFactory())
    url = reverse("delivery:preview", args=[workspace.pk, foreign.pk])
    assert owner_client.get(url, {"url": "https://www.example.com/"}).status_code == 404


def test_a_member_who_is_not_admin_can_preview(client, workspace, message):
    member = MembershipFactory(workspace=workspace, user=UserFactory(), role="member").user
    client.force_login(member)
    url, query = preview_link(workspace, message, url="https://www.example.com/")
    assert client.get(url, query).status_code == 302


def test_a_free_workspace_gets_the_upgrade_page(owner_client, workspace, message):
    workspace.plan = Plan.FREE
    workspace.save()
    url, query = preview_link(workspace, message, url="https://www.example.com/")
    response = owner_client.get(url, query)
    assert response.status_code == 200
    assert "You might not have access to this feature!" in response.content.decode()


def test_the_demo_workspace_previews_on_the_demo_site(client, db):
    from anonmsg.demo import DEMO_EMAIL

    demo = seed_demo()
    message = demo.messages.first()
    client.force_login(demo.memberships.get(user__username=DEMO_EMAIL).user)
    url = reverse("delivery:preview", args=[demo.pk, message.pk])
    page = client.get(url)
    assert "http://testserver/demo/pricing/" in page.content.decode()
    response = client.get(url, {"url": "http://testserver/demo/pricing/"})
    assert response.status_code == 302
    assert response["Location"].startswith("http://testserver/demo/pricing/?anonmsg_preview=")


# --- The delivery API with a preview token ----------------------------------------------------


def ask(client, workspace, token, **params):
    query = {
        "writeKey": workspace.write_key,
        "anonymousId": ANON,
        "url": "https://www.example.com/anything",
        "preview": token,
        **params,
    }
    return client.get("/api/v1/delivery", query)


def test_the_previewed_message_is_forced_on_whatever_its_state(client, workspace):
    draft = AnonymousMessageFactory(workspace=workspace, name="Draft offer")
    PageRuleFactory(message=draft, value="/only-here")
    other = AnonymousMessageFactory(workspace=workspace, launched=True)
    profile = ProfileFactory(workspace=workspace)
    visitor = VisitorFactory(workspace=workspace, anonymous_id=ANON, profile=profile)
    VisitorMessageStateFactory(visitor=visitor, message=draft, dismissed_at=timezone.now())
    token = make_preview_token(workspace_id=workspace.pk, message_id=draft.pk)
    response = ask(client, workspace, token)
    assert response.status_code == 200
    body = response.json()
    assert [m["id"] for m in body["messages"]] == [draft.pk]  # alone: `other` is left out
    assert other.pk != draft.pk
    assert body["preview"] is True
    assert body["messages"][0]["preview"] is True
    assert body["messages"][0]["label"] == "Hello"  # the content's heading, not the name
    assert "name" not in body["messages"][0]
    assert response["X-Poll-Interval"] == "30"


def test_a_preview_works_with_in_app_messages_switched_off(client, workspace):
    message = AnonymousMessageFactory(workspace=workspace)
    workspace.inapp_enabled = False
    workspace.save()
    token = make_preview_token(workspace_id=workspace.pk, message_id=message.pk)
    assert [m["id"] for m in ask(client, workspace, token).json()["messages"]] == [message.pk]


def test_a_preview_token_of_another_workspace_is_refused(client, workspace):
    other = WorkspaceFactory()
    theirs = AnonymousMessageFactory(workspace=other)
    token = make_preview_token(workspace_id=other.pk, message_id=theirs.pk)
    response = ask(client, workspace, token)
    assert response.status_code == 400
    assert response.json()["field"] == "preview"
    # …and a token naming our workspace with their message finds nothing.
    token = make_preview_token(workspace_id=workspace.pk, message_id=theirs.pk)
    assert ask(client, workspace, token).status_code == 400


def test_an_expired_or_bad_preview_token_is_a_clear_error(client, workspace, monkeypatch):
    message = AnonymousMessageFactory(workspace=workspace)
    stale = old_token(
        monkeypatch, seconds_ago=2 * 3600, workspace_id=workspace.pk, message_id=message.pk
    )
    response = ask(client, workspace, stale)
    assert response.status_code == 400
    assert response.json()["error"] == "preview_expired"
    assert ask(client, workspace, "garbage").json()["error"] == "invalid_preview"


def test_a_free_workspace_gets_no_preview(client, db):
    workspace = WorkspaceFactory(plan=Plan.FREE)
    message = AnonymousMessageFactory(workspace=workspace)
    token = make_preview_token(workspace_id=workspace.pk, message_id=message.pk)
    response = ask(client, workspace, token)
    assert response.json()["messages"] == []
    assert response.json()["reason"] == "plan"


@pytest.mark.parametrize(
    "page", ["campaigns:message-detail", "campaigns:wizard-step"], ids=["message", "review"]
)
def test_the_message_page_and_the_review_step_link_to_the_preview(
    owner_client, workspace, message, page
):
    message.wizard_step = 7  # the review step is reachable once every step was saved
    message.save()
    args = [workspace.pk, message.pk] + (["review"] if page == "campaigns:wizard-step" else [])
    response = owner_client.get(reverse(page, args=args))
    assert response.status_code == 200
    link = reverse("delivery:preview", args=[workspace.pk, message.pk])
    assert f'href="{link}"' in response.content.decode()
