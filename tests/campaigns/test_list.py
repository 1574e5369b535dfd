"""The Anonymous page: the workspace's messages, filters, search, empty state, plan gating."""

import datetime as dt
import html
import re

import pytest
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone

from anonmsg.models import Plan
from campaigns.models import Status
from campaigns.templatetags.campaigns_format import ago, short_datetime
from tests.factories import AnonymousMessageFactory

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def list_url(workspace):
    return reverse("campaigns:message-list", args=[workspace.pk])


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def names_in(response) -> list[str]:
    return re.findall(r'class="message-name" href="[^"]+">([^<]+)</a>', text_of(response))


@pytest.fixture
def one_of_each(workspace):
    now = timezone.now()
    make = AnonymousMessageFactory
    return {
        "draft": make(workspace=workspace, name="A draft"),
        "scheduled": make(workspace=workspace, name="Later", launched=True, starts_at=now + HOUR),
        "active": make(workspace=workspace, name="Live offer", launched=True),
        "paused": make(workspace=workspace, name="On hold", status=Status.PAUSED),
        "ended": make(workspace=workspace, name="Finished", launched=True, ends_at=now - HOUR),
        "archived": make(workspace=workspace, name="Old", status=Status.ARCHIVED),
    }


def test_empty_workspace_explains_anonymous_messages(owner_client, list_url, workspace):
    body = text_of(owner_client.get(list_url))
    assert "Turn anonymous visitors into sign-ups" in body
    assert "before</strong> they have an account" in body
    create = reverse("campaigns:message-create", args=[workspace.pk])
    assert f'href="{create}">Create anonymous message</a>' in body


def test_the_list_shows_state_badges_schedule_and_priority(owner_client, list_url, one_of_each):
    body = text_of(owner_client.get(list_url))
    for state in ("draft", "scheduled", "active", "paused", "ended"):
        assert f'class="badge badge-{state}"' in body
    assert "badge-archived" not in body  # archived messages have their own tab
    assert "Create anonymous message" in body
    assert "Starts at launch" in body
    assert "No end date" in body


def test_the_list_is_newest_first(owner_client, list_url, workspace):
    AnonymousMessageFactory(workspace=workspace, name="First")
    AnonymousMessageFactory(workspace=workspace, name="Second")
    assert names_in(owner_client.get(list_url)) == ["Second", "First"]


@pytest.mark.parametrize(
    ("state", "names"),
    [
        ("draft", ["A draft"]),
        ("scheduled", ["Later"]),
        ("active", ["Live offer"]),
        ("paused", ["On hold"]),
        ("ended", ["Finished"]),
        ("archived", ["Old"]),
        ("nonsense", ["Finished", "On hold", "Live offer", "Later", "A draft"]),
    ],
)
def test_filtering_by_state(owner_client, list_url, one_of_each, state, names):
    assert names_in(owner_client.get(list_url, {"state": state})) == names


def test_tabs_count_each_state(owner_client, list_url, one_of_each):
    body = text_of(owner_client.get(list_url))
    counts = dict(re.findall(r'>(\w+) <span class="tab-count">(\d+)</span>', body))
    assert counts == {
        "All": "5",
        "Draft": "1",
        "Scheduled": "1",
        "Active": "1",
        "Paused": "1",
        "Ended": "1",
        "Archived": "1",
    }


def test_searching_by_name_is_case_insensitive(owner_client, list_url, one_of_each):
    assert names_in(owner_client.get(list_url, {"q": "OFFER"})) == ["Live offer"]


def test_search_and_filter_combine(owner_client, list_url, one_of_each):
    assert names_in(owner_client.get(list_url, {"q": "offer", "state": "draft"})) == []


def test_htmx_search_returns_only_the_table(owner_client, list_url, one_of_each):
    response = owner_client.get(list_url, {"q": "hold"}, HTTP_HX_REQUEST="true")
    body = text_of(response)
    assert body.lstrip().startswith('<section id="message-table"')
    assert names_in(response) == ["On hold"]
    assert "HX-Request" in response["Vary"]


def test_no_match_says_how_to_get_back(owner_client, list_url, one_of_each):
    body = text_of(owner_client.get(list_url, {"q": "zzz"}))
    assert "No messages named like “zzz”" in body
    assert f'href="{list_url}">show all messages</a>' in body


def test_drafts_offer_to_continue_editing(owner_client, list_url, one_of_each):
    draft = one_of_each["draft"]
    body = text_of(owner_client.get(list_url))
    assert reverse("campaigns:message-edit", args=[draft.workspace_id, draft.pk]) in body


def test_only_this_workspaces_messages_are_listed(owner_client, list_url, workspace):
    AnonymousMessageFactory(workspace=workspace, name="Ours")
    AnonymousMessageFactory(name="Theirs")
    assert names_in(owner_client.get(list_url)) == ["Ours"]


def test_the_schedule_is_shown_in_the_workspace_time_zone(owner_client, list_url, workspace):
    workspace.time_zone = "America/New_York"
    workspace.save()
    AnonymousMessageFactory(
        workspace=workspace,
        launched=True,
        starts_at=dt.datetime(2099, 1, 15, 17, 0, tzinfo=dt.UTC),
    )
    body = text_of(owner_client.get(list_url))
    assert "Starts Jan 15, 2099, 12:00" in body
    assert "(America/New_York)" in body


def test_the_list_pages_after_fifty(owner_client, list_url, workspace):
    AnonymousMessageFactory.create_batch(51, workspace=workspace)
    first = owner_client.get(list_url)
    assert len(names_in(first)) == 50
    assert "Page 1 of 2" in text_of(first)
    assert len(names_in(owner_client.get(list_url, {"page": "2"}))) == 1


def test_the_list_is_a_fixed_number_of_queries(
    owner_client, list_url, workspace, django_assert_max_num_queries
):
    AnonymousMessageFactory.create_batch(20, workspace=workspace)
    with django_assert_max_num_queries(12):
        assert owner_client.get(list_url).status_code == 200


def test_free_plan_sees_the_upgrade_page(owner_client, list_url, workspace):
    workspace.plan = Plan.FREE
    workspace.save()
    AnonymousMessageFactory(workspace=workspace, name="Hidden")
    body = text_of(owner_client.get(list_url))
    assert "You might not have access to this feature!" in body
    assert "Hidden" not in body


def test_outsiders_get_a_404(outsider_client, list_url):
    assert outsider_client.get(list_url).status_code == 404


def test_the_metrics_columns_have_their_place(owner_client, list_url, workspace):
    AnonymousMessageFactory(workspace=workspace)
    # The metrics app fills the includes (tests/metrics/test_list_columns.py checks the numbers).
    assert owner_client.get(list_url).status_code == 200
    head = get_template("campaigns/_list_metrics_head.html").render({})
    assert ">Views</th>" in head and ">Converted</th>" in head


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (dt.timedelta(seconds=10), "just now"),
        (dt.timedelta(minutes=5, seconds=3), "5\xa0min ago"),  # never split
        (dt.timedelta(hours=3, minutes=59), "3\xa0h ago"),
        (dt.timedelta(days=1, hours=3), "1\xa0day ago"),
        (dt.timedelta(days=2, hours=3), "2\xa0days ago"),
        (-dt.timedelta(minutes=5, seconds=3), "in 5\xa0min"),
    ],
)
def test_last_change_reads_naturally(delta, text):
    assert ago(timezone.now() - delta) == text


def test_dates_of_this_year_leave_the_year_out():
    this_year = timezone.now().replace(month=3, day=3, hour=14, minute=5)
    assert short_datetime(this_year) == "Mar 3, 14:05"
    assert short_datetime(this_year.replace(year=2099)) == "Mar 3, 2099, 14:05"
