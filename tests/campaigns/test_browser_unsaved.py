"""Real Chromium: leaving a wizard step with unsaved changes asks first; saving does not."""

import re

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, AnonymousMessageFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.browser

BEFORE_UNLOAD = """() => {
  const event = new Event("beforeunload", {cancelable: true});
  window.dispatchEvent(event);
  return event.defaultPrevented;
}"""


@pytest.fixture
def message(transactional_db):
    user = UserFactory(username="mia@acme.test")
    workspace = MembershipFactory(user=user).workspace
    return AnonymousMessageFactory(workspace=workspace, name="Spring offer")


def open_step(page, live_server, message, step):
    page.goto(live_server.url + reverse("login"))
    page.get_by_label("E-mail").fill("mia@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/w/**")
    page.goto(
        live_server.url
        + reverse("campaigns:wizard-step", args=[message.workspace_id, message.pk, step])
    )
    page.wait_for_load_state("load")


def test_an_untouched_step_leaves_without_asking(page, live_server, message):
    open_step(page, live_server, message, "name")
    assert page.evaluate(BEFORE_UNLOAD) is False
    page.get_by_label("Description").fill("typed")
    page.get_by_label("Description").fill("")  # typed and undone: nothing to lose
    assert page.evaluate(BEFORE_UNLOAD) is False


def test_closing_the_tab_with_a_changed_field_asks_first(page, live_server, message):
    open_step(page, live_server, message, "name")
    page.get_by_label("Description").fill("For the spring campaign")
    assert page.evaluate(BEFORE_UNLOAD) is True


def test_a_link_out_of_a_changed_step_asks_and_stays_when_refused(page, live_server, message):
    open_step(page, live_server, message, "name")
    step_url = page.url
    page.get_by_label("Description").fill("For the spring campaign")
    questions = []

    def refuse(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", refuse)
    page.get_by_role("link", name="Close").click()
    assert questions == ["This step has changes you have not saved. Leave without saving them?"]
    assert page.url == step_url
    assert page.get_by_label("Description").input_value() == "For the spring campaign"

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("link", name="Close").click()
    page.wait_for_url(f"**{message.get_absolute_url()}")


def test_saving_the_step_does_not_ask(page, live_server, message):
    open_step(page, live_server, message, "name")
    page.get_by_label("Description").fill("For the spring campaign")
    page.on("dialog", lambda dialog: pytest.fail(f"asked: {dialog.message}"))
    page.get_by_role("button", name="Save and exit").click()
    page.wait_for_url(f"**{message.get_absolute_url()}")
    message.refresh_from_db()
    assert message.description == "For the spring campaign"


def test_a_step_shown_again_with_errors_still_counts_as_unsaved(page, live_server, message):
    open_step(page, live_server, message, "name")
    page.get_by_label("Name", exact=True).fill("")
    page.get_by_role("button", name="Next: Page rules →").click()
    page.locator(".form-error").wait_for()
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )
    assert page.evaluate(BEFORE_UNLOAD) is True


def test_switching_from_the_builder_to_html_starts_from_the_builders_html(
    page, live_server, message
):
    from campaigns import content

    builder = {"heading": "Old heading", "text": "Some text", "buttons": [], "close_button": True}
    message.content_builder = builder
    message.content_html = content.build_html(builder, display_type="modal")
    message.wizard_step = 7  # every step reached: the content step opens directly
    message.save()
    open_step(page, live_server, message, "content")
    page.get_by_role("textbox", name="Heading").fill("Fresh heading")
    page.locator('[data-built-html*="Fresh heading"]').wait_for(state="attached")
    page.get_by_role("radio", name=re.compile(r"^HTML")).check()
    html = page.locator("textarea[name=html]")
    html.wait_for()
    assert "Fresh heading" in html.input_value()
    assert "Old heading" not in html.input_value()
    assert "Some text" in html.input_value()
