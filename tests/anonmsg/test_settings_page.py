import html

from django.urls import reverse


def test_settings_page_shows_the_snippet_with_this_server_and_the_write_key(
    owner_client, workspace
):
    response = owner_client.get(reverse("settings-inapp", args=[workspace.pk]))
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    assert "http://testserver/v1/analytics-js/snippet/" in body
    assert f'analytics.load(\n      "{workspace.write_key}"' in body
    assert "anonymousInApp: true" in body


def test_outsider_gets_404_on_settings(outsider_client, workspace):
    assert outsider_client.get(reverse("settings-inapp", args=[workspace.pk])).status_code == 404
