"""Settings → In-app and General: the snippet, the switch, origins, keys; admins vs members."""

import html

import pytest
from django.urls import reverse

from anonmsg.models import Role, Workspace
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def member_client(client, workspace):
    member = MembershipFactory(workspace=workspace, role=Role.MEMBER, user=UserFactory()).user
    client.force_login(member)
    return client


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def test_settings_page_shows_the_snippet_with_this_server_and_the_write_key(
    owner_client, workspace
):
    response = owner_client.get(reverse("settings-inapp", args=[workspace.pk]))
    assert response.status_code == 200
    body = page_text(response)
    assert '!function(){var i="cioanalytics",analytics=(window[i]=window[i]||[])' in body
    assert 't.src="http://testserver/v1/analytics-js/snippet/"+key+"/analytics.min.js"' in body
    assert f'analytics.load(\n      "{workspace.write_key}"' in body
    assert '"Customer.io In-App Plugin": {\n            anonymousInApp: true' in body
    assert "analytics.page();" in body
    assert (
        f"http://testserver/v1/analytics-js/snippet/{workspace.write_key}/analytics.min.js" in body
    )
    assert 'data-copy="#snippet"' in body


def test_the_snippet_points_at_public_url_when_it_is_set(owner_client, workspace, settings):
    settings.PUBLIC_URL = "https://anonmsg.example.com"
    body = page_text(owner_client.get(reverse("settings-inapp", args=[workspace.pk])))
    assert 't.src="https://anonmsg.example.com/v1/analytics-js/snippet/"+key' in body
    assert "testserver/v1/" not in body


def test_settings_page_shows_the_sdk_last_seen_placeholder(owner_client, workspace):
    body = page_text(owner_client.get(reverse("settings-inapp", args=[workspace.pk])))
    assert "SDK last seen:" in body
    assert "never" in body


def test_the_secret_app_api_key_never_appears_on_the_settings_page(owner_client, workspace):
    secret = workspace.rotate_api_key()
    body = page_text(owner_client.get(reverse("settings-inapp", args=[workspace.pk])))
    assert secret not in body
    assert f"{secret[:7]}…" in body


def test_a_member_can_view_settings_but_not_change_them(member_client, workspace):
    response = member_client.get(reverse("settings-inapp", args=[workspace.pk]))
    assert response.status_code == 200
    body = page_text(response)
    assert workspace.write_key in body
    assert reverse("settings-toggle-inapp", args=[workspace.pk]) not in body
    assert reverse("settings-rotate-api-key", args=[workspace.pk]) not in body
    assert "Only workspace admins can create or rotate the key." in body


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("settings-toggle-inapp", {}),
        ("settings-rotate-api-key", {}),
        ("settings-rotate-write-key", {}),
        ("settings-origins", {"allowed_origins": "https://evil.example"}),
        ("settings-general", {"name": "Taken over", "time_zone": "UTC"}),
    ],
)
def test_a_member_gets_403_on_every_change(member_client, workspace, name, data):
    before = Workspace.objects.values().get(pk=workspace.pk)
    response = member_client.post(reverse(name, args=[workspace.pk]), data)
    assert response.status_code == 403
    assert Workspace.objects.values().get(pk=workspace.pk) == before


def test_an_admin_turns_in_app_messages_off_and_on(owner_client, workspace):
    url = reverse("settings-toggle-inapp", args=[workspace.pk])
    version = workspace.content_version

    response = owner_client.post(url, {})
    assert response.status_code == 302
    workspace.refresh_from_db()
    assert workspace.inapp_enabled is False
    assert workspace.content_version == version + 1

    owner_client.post(url, {"enabled": "on"})
    workspace.refresh_from_db()
    assert workspace.inapp_enabled is True


def test_the_switch_answers_htmx_with_the_fresh_switch_and_the_flash_message(
    owner_client, workspace
):
    response = owner_client.post(
        reverse("settings-toggle-inapp", args=[workspace.pk]), {}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    body = page_text(response)
    assert body.lstrip().startswith('<div id="inapp-switch"')
    assert "Disabled" in body
    assert 'id="flash" class="flash-stack" aria-live="polite" hx-swap-oob="true"' in body
    assert "In-app messages are off: SDKs receive no messages." in body
    assert "<html" not in body


def test_admins_save_allowed_origins_normalised(owner_client, workspace):
    response = owner_client.post(
        reverse("settings-origins", args=[workspace.pk]),
        {
            "allowed_origins": " https://WWW.Example.com/ \n\nhttp://localhost:3000\nhttps://www.example.com"
        },
    )
    assert response.status_code == 302
    workspace.refresh_from_db()
    assert workspace.origins == ["https://www.example.com", "http://localhost:3000"]


@pytest.mark.parametrize(
    "value",
    [
        "www.example.com",
        "https://www.example.com/path",
        "https://www.example.com?x=1",
        "javascript:alert(1)",
        "https://user:pw@example.com",
        "https://example.com:notaport",
        "https://exa\x00mple.com",
    ],
)
def test_a_malformed_origin_is_a_clear_form_error_and_nothing_is_saved(
    owner_client, workspace, value
):
    workspace.allowed_origins = "https://kept.example.com"
    workspace.save()
    response = owner_client.post(
        reverse("settings-origins", args=[workspace.pk]), {"allowed_origins": value}
    )
    assert response.status_code == 400
    body = page_text(response)
    assert 'class="field-error"' in body
    workspace.refresh_from_db()
    assert workspace.allowed_origins == "https://kept.example.com"


def test_a_malformed_origin_over_htmx_re_renders_only_the_form(owner_client, workspace):
    response = owner_client.post(
        reverse("settings-origins", args=[workspace.pk]),
        {"allowed_origins": "not an origin"},
        headers={"HX-Request": "true"},
    )
    body = page_text(response)
    assert body.lstrip().startswith('<div id="origins"')
    assert "“not an origin” is not an origin. Write the scheme and host only" in body


@pytest.mark.django_db(transaction=True)
def test_rotating_the_write_key_stops_the_old_one_for_tracking_and_delivery(
    owner_client, workspace, client, settings
):
    from django.core.cache import cache

    from tests.delivery.tracking_helpers import send

    settings.DELIVERY_STATE_CACHE = True  # the cached paths must forget the old key too
    cache.clear()
    old = workspace.write_key
    delivery = {"anonymousId": "a-1", "url": "/pricing"}
    assert client.get("/api/v1/delivery", {"writeKey": old, **delivery}).status_code == 200
    assert client.get("/api/v1/delivery", {"writeKey": old, **delivery}).status_code == 200
    track = {"anonymousId": "a-1", "event": "Signed up"}
    assert send(client, "track", track, write_key=old).status_code == 200

    response = owner_client.post(reverse("settings-rotate-write-key", args=[workspace.pk]))
    assert response.status_code == 302
    workspace.refresh_from_db()
    new = workspace.write_key
    assert new != old and new.startswith("wk_")
    page = page_text(owner_client.get(response["Location"]))
    assert "New write key created" in page
    assert new in page and old not in page

    assert client.get("/api/v1/delivery", {"writeKey": old, **delivery}).status_code == 401
    assert send(client, "track", track, write_key=old).status_code == 401
    assert client.get("/api/v1/delivery", {"writeKey": new, **delivery}).status_code == 200
    assert send(client, "track", track, write_key=new).status_code == 200


def test_rotating_the_key_shows_the_new_key_once_and_stores_only_its_hash(owner_client, workspace):
    from anonmsg.keys import hash_api_key

    url = reverse("settings-rotate-api-key", args=[workspace.pk])
    response = owner_client.post(url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = response.context["new_api_key"]
    assert secret.startswith("sk_")
    assert secret in page_text(response)
    assert "Copy your new key now: it will not be shown again." in page_text(response)

    workspace.refresh_from_db()
    assert workspace.api_key_hash == hash_api_key(secret)
    stored = Workspace.objects.values().get(pk=workspace.pk)
    assert all(secret not in str(value) for value in stored.values())

    again = owner_client.get(reverse("settings-inapp", args=[workspace.pk]))
    assert secret not in page_text(again)


def test_the_general_page_counts_members_and_saves_name_and_time_zone(owner_client, workspace):
    url = reverse("settings-general", args=[workspace.pk])
    body = page_text(owner_client.get(url))
    assert "1 person uses this workspace" in body
    assert reverse("settings-members", args=[workspace.pk]) in owner_client.get(url).text

    response = owner_client.post(url, {"name": " Acme Inc ", "time_zone": "Europe/Paris"})
    assert response.status_code == 302
    workspace.refresh_from_db()
    assert (workspace.name, workspace.time_zone) == ("Acme Inc", "Europe/Paris")


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"name": "", "time_zone": "UTC"}, "This field is required."),
        ({"name": "   ", "time_zone": "UTC"}, "This field is required."),
        ({"name": "x" * 101, "time_zone": "UTC"}, "Ensure this value has at most 100 characters"),
        ({"name": "Acme", "time_zone": "Mars/Olympus"}, "Select a valid choice."),
        ({"name": "Ac\x00me", "time_zone": "UTC"}, "Null characters are not allowed."),
        ({}, "This field is required."),
    ],
)
def test_malformed_general_settings_are_clear_form_errors(owner_client, workspace, data, error):
    response = owner_client.post(reverse("settings-general", args=[workspace.pk]), data)
    assert response.status_code == 400
    assert error in page_text(response)
    workspace.refresh_from_db()
    assert (workspace.name, workspace.time_zone) == ("Acme", "UTC")
    # The sidebar still shows the stored name, not the rejected one.
    assert response.context["current_workspace"].name == "Acme"


def test_the_switcher_lists_every_workspace_of_the_user_and_keeps_the_page(client, workspace):
    from tests.factories import WorkspaceFactory

    user = UserFactory()
    second = WorkspaceFactory(name="Second shop")
    MembershipFactory(user=user, workspace=workspace)
    MembershipFactory(user=user, workspace=second)
    client.force_login(user)
    body = page_text(client.get(reverse("settings-general", args=[workspace.pk])))
    assert "Second shop" in body
    assert f'href="{reverse("settings-general", args=[second.pk])}"' in body
