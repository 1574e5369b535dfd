"""Django admin for anonymous messages (page rules inline) and segments."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import AnonymousMessage, PageRule, Segment, Status
from tests.factories import (
    AnonymousMessageFactory,
    PageRuleFactory,
    SegmentFactory,
    UserFactory,
    WorkspaceFactory,
)


def admin_url(model, view, *args):
    return reverse(f"admin:campaigns_{model}_{view}", args=args)


def test_the_message_list_shows_name_workspace_derived_state_priority(admin_client):
    workspace = WorkspaceFactory(name="Acme")
    AnonymousMessageFactory(workspace=workspace, name="Spring sale", launched=True, priority=4)
    AnonymousMessageFactory(
        workspace=workspace,
        name="Later",
        launched=True,
        starts_at=timezone.now() + timedelta(days=1),
    )

    response = admin_client.get(admin_url("anonymousmessage", "changelist"))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Spring sale" in body
    assert "Acme" in body
    assert "Active" in body
    assert "Scheduled" in body
    assert '<td class="field-priority">4</td>' in body


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ({"state": "active"}, "Live one", "Draft one"),
        ({"state": "draft"}, "Draft one", "Live one"),
        ({"q": "live"}, "Live one", "Draft one"),
    ],
)
def test_messages_can_be_filtered_by_state_and_searched(admin_client, query, shown, hidden):
    workspace = WorkspaceFactory()
    AnonymousMessageFactory(workspace=workspace, name="Live one", launched=True)
    AnonymousMessageFactory(workspace=workspace, name="Draft one")

    response = admin_client.get(admin_url("anonymousmessage", "changelist"), query)

    body = response.content.decode()
    assert shown in body
    assert hidden not in body


def test_the_message_page_shows_its_page_rules_inline(admin_client):
    message = AnonymousMessageFactory(name="With rules")
    PageRuleFactory(message=message, operator="starts_with", value="/pricing")

    response = admin_client.get(admin_url("anonymousmessage", "change", message.pk))

    body = response.content.decode()
    assert response.status_code == 200
    assert 'name="rules-0-value"' in body
    assert 'value="/pricing"' in body


def test_the_add_message_page_renders(admin_client):
    response = admin_client.get(admin_url("anonymousmessage", "add"))

    assert response.status_code == 200
    assert 'name="rules-TOTAL_FORMS"' in response.content.decode()


def message_form(message, **changes):
    data = {
        "workspace": message.workspace_id,
        "name": message.name,
        "description": "",
        "priority": 1,
        "status": message.status,
        "frequency_mode": "until_dismissed",
        "frequency_times": 1,
        "min_interval_seconds": 0,
        "goal_trigger": "click",
        "goal_window_hours": 168,
        "goal_condition": "none",
        "goal_event": "",
        "content_html": message.content_html,
        "content_builder": "null",
        "display_type": "modal",
        "display_position": "center",
        "display_element_id": "",
        "close_on_backdrop": "on",
        "wizard_step": 1,
        "variant_a_weight": 100,
        "holdout_percent": 0,
        "variants-TOTAL_FORMS": "0",
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "0",
        "variants-MAX_NUM_FORMS": "3",
        "rules-TOTAL_FORMS": "1",
        "rules-INITIAL_FORMS": "0",
        "rules-MIN_NUM_FORMS": "0",
        "rules-MAX_NUM_FORMS": "1000",
        "rules-0-position": "0",
        "rules-0-platform": "web",
        "rules-0-operator": "is",
        "rules-0-value": "/pricing",
        "rules-0-message": message.pk,
    }
    data.update(changes)
    return data


def test_staff_can_save_a_message_with_a_rule(admin_client):
    message = AnonymousMessageFactory()

    response = admin_client.post(
        admin_url("anonymousmessage", "change", message.pk), message_form(message, name="Saved")
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    message.refresh_from_db()
    assert message.name == "Saved"
    assert list(message.rules.values_list("value", flat=True)) == ["/pricing"]


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"rules-0-operator": "regex", "rules-0-value": "(unclosed"}, "does not compile"),
        ({"rules-0-operator": "regex", "rules-0-value": "a" * 301}, "limited to 300"),
        ({"content_html": "<p>Hi {{ first_name }}</p>"}, "Liquid is not supported"),
        ({"display_type": "banner", "display_position": "center"}, "A banner is shown at top, bottom"),
        ({"display_type": "inline", "display_element_id": ""}, "need the page element"),
    ],
)  # fmt: skip
def test_the_admin_refuses_what_the_api_refuses(admin_client, changes, error):
    message = AnonymousMessageFactory(name="Unchanged")

    response = admin_client.post(
        admin_url("anonymousmessage", "change", message.pk),
        message_form(message, name="Changed", **changes),
    )

    assert response.status_code == 200
    assert error in response.content.decode()
    message.refresh_from_db()
    assert message.name == "Unchanged"
    assert not PageRule.objects.exists()


def test_the_admin_refuses_a_goal_segment_of_another_workspace(admin_client):
    message = AnonymousMessageFactory()
    foreign = SegmentFactory()

    response = admin_client.post(
        admin_url("anonymousmessage", "change", message.pk),
        message_form(message, goal_condition="segment_entered", goal_segment=foreign.pk),
    )

    assert "This segment belongs to another workspace." in response.content.decode()
    message.refresh_from_db()
    assert message.goal_segment is None


def test_the_segment_list_and_page_render(admin_client):
    segment = SegmentFactory(
        name="Pros",
        match="any",
        conditions=[
            {"trait": "plan", "operator": "equals", "value": "pro"},
            {"trait": "vip", "operator": "exists", "value": None},
        ],
    )

    listing = admin_client.get(admin_url("segment", "changelist"))
    page = admin_client.get(admin_url("segment", "change", segment.pk))
    add = admin_client.get(admin_url("segment", "add"))

    assert listing.status_code == page.status_code == add.status_code == 200
    assert "plan equals “pro” or vip exists" in listing.content.decode()
    assert "Pros" in page.content.decode()


@pytest.mark.parametrize(
    ("conditions", "error"),
    [
        ('[{"trait": "plan", "operator": "equals", "value": ""}]', "conditions[0].value"),
        ('[{"trait": "plan", "operator": "like", "value": "x"}]', "Unknown operator"),
        ("[]", "This field is required."),
        ("{}", "This field is required."),
        ('["plan"]', "conditions[0]: Each condition is an object"),
    ],
)
def test_the_segment_admin_validates_conditions(admin_client, conditions, error):
    workspace = WorkspaceFactory()

    response = admin_client.post(
        admin_url("segment", "add"),
        {"workspace": workspace.pk, "name": "Bad", "match": "all", "conditions": conditions},
    )

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Segment.objects.exists()


def test_the_segment_admin_stores_cleaned_conditions(admin_client):
    workspace = WorkspaceFactory()

    admin_client.post(
        admin_url("segment", "add"),
        {
            "workspace": workspace.pk,
            "name": "Good",
            "match": "all",
            "conditions": '[{"trait": " plan ", "operator": "exists", "value": "x"}]',
        },
    )

    assert Segment.objects.get().conditions == [
        {"trait": "plan", "operator": "exists", "value": None}
    ]


@pytest.mark.parametrize("model", ["anonymousmessage", "segment"])
def test_people_who_are_not_staff_cannot_open_the_admin(client, db, model):
    client.force_login(UserFactory())

    response = client.get(admin_url(model, "changelist"))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_a_message_status_is_editable_by_staff_for_repairs(admin_client):
    message = AnonymousMessageFactory(status=Status.PAUSED)

    admin_client.post(
        admin_url("anonymousmessage", "change", message.pk),
        message_form(message, status=Status.LAUNCHED),
    )

    assert AnonymousMessage.objects.get(pk=message.pk).status == Status.LAUNCHED


def test_the_admin_refuses_more_than_100_page_rules(admin_client):
    message = AnonymousMessageFactory()
    data = message_form(message, **{"rules-TOTAL_FORMS": "101"})
    for n in range(101):
        data |= {
            f"rules-{n}-position": str(n),
            f"rules-{n}-platform": "web",
            f"rules-{n}-operator": "is",
            f"rules-{n}-value": f"/p{n}",
            f"rules-{n}-message": message.pk,
        }
    response = admin_client.post(admin_url("anonymousmessage", "change", message.pk), data)
    assert response.status_code == 200
    assert "Please submit at most 100 forms." in response.content.decode()
    assert not PageRule.objects.filter(message=message).exists()
