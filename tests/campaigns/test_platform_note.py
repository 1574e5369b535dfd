"""A web-only message is the common case: the platform note is said once, on the rules step."""

from django.urls import reverse

from tests.factories import AnonymousMessageFactory, PageRuleFactory


def step(message, slug):
    return reverse("campaigns:wizard-step", args=[message.workspace_id, message.pk, slug])


def test_a_web_only_message_gets_no_platform_warning_on_review_or_its_page(owner_client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    PageRuleFactory(message=message, platform="web", value="/pricing")
    for url in (step(message, "review"), message.get_absolute_url()):
        response = owner_client.get(url)
        assert response.status_code == 200
        body = response.content.decode()
        assert "/pricing" in body  # the rules are shown…
        # …without a platform warning (the debugger's platform picker may still name them).
        assert "the message is not shown on iOS" not in body, url


def test_the_rules_step_says_once_where_the_message_is_not_shown(owner_client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    PageRuleFactory(message=message, platform="web", value="/pricing")
    body = owner_client.get(step(message, "rules")).content.decode()
    assert "Rules for Web only: the message is not shown on iOS or Android" in body


def test_a_message_without_rules_is_still_warned_about_on_review(owner_client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    body = owner_client.get(step(message, "review")).content.decode()
    assert "No page rules: this message shows on every page" in body
