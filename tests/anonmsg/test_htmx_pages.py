"""Every dashboard page that htmx refreshes in part (anonmsg/htmx.py): a region for an htmx
request, the whole page for a history restore (Back after htmx's history cache missed) or a boosted
link, and a Vary header so that no cache hands one answer to the other request."""

import pytest
from django.urls import reverse

from tests.factories import AnonymousMessageFactory, ProfileFactory

HTMX = {"HTTP_HX_REQUEST": "true"}
HISTORY_RESTORE = {"HTTP_HX_REQUEST": "true", "HTTP_HX_HISTORY_RESTORE_REQUEST": "true"}


def _message(workspace):
    return AnonymousMessageFactory(workspace=workspace, wizard_step=7)


PAGES = {
    "campaigns:message-list": lambda workspace: [],
    "campaigns:message-create": lambda workspace: [],
    "campaigns:wizard-step": lambda workspace: [_message(workspace).pk, "rules"],
    "campaigns:rule-test": lambda workspace: [_message(workspace).pk],
    "metrics:message-metrics": lambda workspace: [_message(workspace).pk],
    "delivery:activity": lambda workspace: [],
    "delivery:people": lambda workspace: [],
    "delivery:person": lambda workspace: [ProfileFactory(workspace=workspace).pk],
    "settings-members": lambda workspace: [],
}


@pytest.fixture(params=sorted(PAGES))
def page_url(request, workspace):
    name = request.param
    url = reverse(name, args=[workspace.pk, *PAGES[name](workspace)])
    if name == "campaigns:rule-test":
        url += "?test-target=%2Fpricing"
    return url


def is_whole_page(response) -> bool:
    return b"<!doctype html>" in response.content and b"</html>" in response.content


def test_a_plain_request_gets_the_whole_page(owner_client, page_url):
    response = owner_client.get(page_url)
    assert response.status_code == 200
    assert is_whole_page(response)


def test_an_htmx_request_gets_only_the_region(owner_client, page_url):
    response = owner_client.get(page_url, **HTMX)
    assert response.status_code == 200
    assert not is_whole_page(response)


def test_an_htmx_history_restore_gets_the_whole_page(owner_client, page_url):
    response = owner_client.get(page_url, **HISTORY_RESTORE)
    assert response.status_code == 200
    assert is_whole_page(response)


def test_a_boosted_link_gets_the_whole_page(owner_client, page_url):
    response = owner_client.get(page_url, HTTP_HX_REQUEST="true", HTTP_HX_BOOSTED="true")
    assert response.status_code == 200
    assert is_whole_page(response)


def test_the_answer_varies_on_both_htmx_headers(owner_client, page_url):
    vary = {
        header.strip().lower() for header in owner_client.get(page_url, **HTMX)["Vary"].split(",")
    }
    assert {"hx-request", "hx-history-restore-request", "hx-boosted"} <= vary
