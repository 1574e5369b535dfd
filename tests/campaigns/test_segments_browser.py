"""A marketer creates a segment in Chromium: condition rows added and removed with htmx."""

import pytest
from django.urls import reverse

from campaigns.models import Segment
from tests.factories import PASSWORD, MembershipFactory, UserFactory, WorkspaceFactory


@pytest.mark.browser
def test_a_marketer_builds_a_segment_adding_and_removing_conditions(live_server, page):
    workspace = WorkspaceFactory(name="Acme")
    MembershipFactory(workspace=workspace, user=UserFactory(username="marketer@acme.test"))

    page.goto(live_server.url + reverse("login"))
    page.fill("input[name=username]", "marketer@acme.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(live_server.url + reverse("campaigns:segment-list", args=[workspace.pk]))
    page.get_by_role("link", name="Create segment").first.click()

    page.fill("input[name=name]", "Big pro companies")
    page.fill("input[name=conditions-0-trait]", "plan")
    page.fill("input[name=conditions-0-value]", "pro")
    page.get_by_role("button", name="+ Add condition").click()
    page.wait_for_selector("input[name=conditions-1-trait]")
    # htmx swapped only the rows: what was typed above is still there, the new row has focus.
    assert page.input_value("input[name=name]") == "Big pro companies"
    page.keyboard.type("nickname")
    page.get_by_role("button", name="+ Add condition").click()
    page.wait_for_selector("input[name=conditions-2-trait]")
    page.fill("input[name=conditions-2-trait]", "company.size")
    page.select_option("select[name=conditions-2-operator]", "greater_than")
    page.fill("input[name=conditions-2-value]", "fifty")
    page.get_by_role("button", name="Remove condition 2").click()
    page.wait_for_selector("input[name=conditions-2-trait]", state="detached")
    assert page.input_value("input[name=conditions-1-trait]") == "company.size"

    page.get_by_role("button", name="Save segment").last.click()
    assert "compare numbers or dates" in page.inner_text("#conditions")
    page.fill("input[name=conditions-1-value]", "50")
    page.press("input[name=conditions-1-value]", "Enter")

    page.wait_for_url("**/segments/")
    assert "Segment “Big pro companies” created." in page.inner_text("main")
    assert "company.size is greater than “50”" in page.inner_text("main")
    segment = Segment.objects.get()
    assert segment.conditions == [
        {"trait": "plan", "operator": "equals", "value": "pro"},
        {"trait": "company.size", "operator": "greater_than", "value": "50"},
    ]
