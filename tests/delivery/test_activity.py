import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from delivery.people.activity import describe_delay, describe_event
from tests.factories import (
    AnonymousMessageFactory,
    EventFactory,
    ProfileFactory,
    VisitorFactory,
    WorkspaceFactory,
)


def activity_url(workspace, **query):
    url = reverse("delivery:activity", args=[workspace.pk])
    if query:
        url += "?" + urlencode(query)
    return url


def shown_event_ids(response) -> list[int]:
    """Event ids in page order, read from the rows' detail links."""
    assert response.status_code == 200
    return [int(pk) for pk in re.findall(r"/activity/(\d+)/", response.content.decode())]


def at(day, hour=12):
    return datetime(2025, 3, day, hour, tzinfo=UTC)


def test_activity_lists_the_workspaces_events_newest_first(owner_client, workspace):
    old = EventFactory(workspace=workspace, timestamp=at(1))
    new = EventFactory(workspace=workspace, timestamp=at(3))
    middle = EventFactory(workspace=workspace, timestamp=at(2))

    assert shown_event_ids(owner_client.get(activity_url(workspace))) == [
        new.pk,
        middle.pk,
        old.pk,
    ]


def test_activity_never_shows_another_workspaces_events(owner_client, workspace):
    EventFactory(workspace=workspace, name="Ours")
    theirs = EventFactory(workspace=WorkspaceFactory(), name="Their secret event")

    response = owner_client.get(activity_url(workspace))
    assert theirs.pk not in shown_event_ids(response)
    assert "Their secret event" not in response.content.decode()


def test_an_outsider_gets_404_on_the_activity_log_and_on_an_event(outsider_client, workspace):
    event = EventFactory(workspace=workspace)
    assert outsider_client.get(activity_url(workspace)).status_code == 404
    url = reverse("delivery:event", args=[workspace.pk, event.pk])
    assert outsider_client.get(url).status_code == 404


def test_an_anonymous_user_is_sent_to_log_in(client, workspace):
    response = client.get(activity_url(workspace))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_another_workspaces_event_is_404_through_this_workspace(owner_client, workspace):
    theirs = EventFactory(workspace=WorkspaceFactory())
    url = reverse("delivery:event", args=[workspace.pk, theirs.pk])
    assert owner_client.get(url).status_code == 404


@pytest.fixture
def mixed_events(workspace):
    return {
        "page": EventFactory(
            workspace=workspace, type="page", name="", anonymous_id="anon-a", timestamp=at(1)
        ),
        "signup": EventFactory(
            workspace=workspace, name="Signed Up", anonymous_id="anon-b", timestamp=at(2)
        ),
        "identify": EventFactory(
            workspace=workspace,
            type="identify",
            name="",
            anonymous_id="anon-b",
            user_id="user-1",
            timestamp=at(3),
        ),
        "paid": EventFactory(
            workspace=workspace, name="Paid", anonymous_id="", user_id="user-1", timestamp=at(4)
        ),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["paid", "identify", "signup", "page"]),
        ({"anonymous_id": "anon-b"}, ["identify", "signup"]),
        ({"user_id": "user-1"}, ["paid", "identify"]),
        ({"type": "page"}, ["page"]),
        ({"type": "identify"}, ["identify"]),
        ({"name": "signed up"}, ["signup"]),
        ({"name": "Nope"}, []),
        ({"date_from": "2025-03-02"}, ["paid", "identify", "signup"]),
        ({"date_to": "2025-03-02"}, ["signup", "page"]),
        ({"date_from": "2025-03-02", "date_to": "2025-03-03"}, ["identify", "signup"]),
        ({"anonymous_id": "anon-b", "type": "track"}, ["signup"]),
    ],
)
def test_activity_filters(owner_client, workspace, mixed_events, query, expected):
    response = owner_client.get(activity_url(workspace, **query))
    assert shown_event_ids(response) == [mixed_events[name].pk for name in expected]


def test_date_filters_are_days_in_the_workspaces_time_zone(owner_client, workspace):
    workspace.time_zone = "America/New_York"
    workspace.save()
    # 2025-03-02 02:00 UTC is still March 1st in New York.
    late_evening = EventFactory(workspace=workspace, timestamp=datetime(2025, 3, 2, 2, tzinfo=UTC))

    assert shown_event_ids(owner_client.get(activity_url(workspace, date_to="2025-03-01"))) == [
        late_evening.pk
    ]
    assert shown_event_ids(owner_client.get(activity_url(workspace, date_from="2025-03-02"))) == []


@pytest.mark.parametrize(
    "query",
    [
        {"date_from": "2025-03-05", "date_to": "2025-03-01"},
        {"date_from": "not a date"},
        {"type": "unknown"},
    ],
)
def test_invalid_filters_show_an_error_and_no_events(owner_client, workspace, mixed_events, query):
    response = owner_client.get(activity_url(workspace, **query))
    assert response.status_code == 200
    assert shown_event_ids(response) == []
    assert 'class="field-error"' in response.content.decode()


def test_the_log_pages_through_events_with_older_and_newer_links(owner_client, workspace):
    start = at(1)
    # 120 events, some sharing a timestamp: pages must neither skip nor repeat any.
    events = [
        EventFactory(workspace=workspace, timestamp=start + timedelta(seconds=n // 3))
        for n in range(120)
    ]
    expected = [e.pk for e in sorted(events, key=lambda e: (e.timestamp, e.pk), reverse=True)]

    first = owner_client.get(activity_url(workspace))
    seen = shown_event_ids(first)
    older_links = re.findall(r'href="\?before=([^"]+)"', first.content.decode())
    assert len(seen) == 50 and older_links

    second = owner_client.get(activity_url(workspace) + "?before=" + older_links[0])
    third_link = re.findall(r'href="\?before=([^"]+)"', second.content.decode())[0]
    third = owner_client.get(activity_url(workspace) + "?before=" + third_link)
    pages = seen + shown_event_ids(second) + shown_event_ids(third)
    assert pages == expected
    assert 'rel="next"' not in third.content.decode()

    newer_link = re.findall(r'href="\?after=([^"]+)"', third.content.decode())[0]
    back = owner_client.get(activity_url(workspace) + "?after=" + newer_link)
    assert shown_event_ids(back) == shown_event_ids(second)


def test_pager_links_keep_the_filters(owner_client, workspace):
    for _ in range(60):
        EventFactory(workspace=workspace, name="Clicked")
    response = owner_client.get(activity_url(workspace, name="Clicked"))
    assert 'href="?name=Clicked&amp;before=' in response.content.decode()


def test_an_htmx_request_gets_only_the_results(owner_client, workspace, mixed_events):
    response = owner_client.get(activity_url(workspace, type="page"), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="activity-results"')
    assert "<html" not in body
    assert shown_event_ids(response) == [mixed_events["page"].pk]


def test_the_log_takes_a_constant_number_of_queries(
    owner_client, workspace, django_assert_max_num_queries
):
    message = AnonymousMessageFactory(workspace=workspace)
    profile = ProfileFactory(workspace=workspace, user_id="user-1")
    for n in range(50):
        VisitorFactory(workspace=workspace, anonymous_id=f"anon-{n}", profile=profile)
        EventFactory(
            workspace=workspace,
            anonymous_id=f"anon-{n}",
            user_id="user-1" if n % 2 else "",
            content_id=message.pk if n % 3 else None,
            action_type="viewed_content" if n % 3 else "",
        )
    with django_assert_max_num_queries(12):
        assert owner_client.get(activity_url(workspace)).status_code == 200


def test_rows_link_identified_events_to_the_person(owner_client, workspace):
    profile = ProfileFactory(workspace=workspace, user_id="user-1")
    VisitorFactory(workspace=workspace, anonymous_id="anon-1", profile=profile)
    EventFactory(workspace=workspace, anonymous_id="anon-1", name="Before identify")

    body = owner_client.get(activity_url(workspace)).content.decode()
    assert reverse("delivery:person", args=[workspace.pk, profile.pk]) in body


def test_a_message_event_row_names_the_message(owner_client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, name="Spring sale")
    EventFactory(
        workspace=workspace,
        name="Report Content Event",
        content_id=message.pk,
        action_type="clicked_content",
        action_name="signup",
    )

    body = owner_client.get(activity_url(workspace)).content.decode()
    assert "Clicked ‘Spring sale’" in body
    assert "action “signup” · Report Content Event" in body


def test_the_log_filters_by_message(owner_client, workspace):
    pricing = AnonymousMessageFactory(workspace=workspace, name="Pricing offer")
    blog = AnonymousMessageFactory(workspace=workspace, name="Blog newsletter")
    viewed = EventFactory(workspace=workspace, content_id=pricing.pk, action_type="viewed_content")
    EventFactory(workspace=workspace, content_id=blog.pk, action_type="viewed_content")
    EventFactory(workspace=workspace, name="Signed Up")
    response = owner_client.get(activity_url(workspace, message=pricing.pk))
    assert shown_event_ids(response) == [viewed.pk]
    body = response.content.decode()
    assert f'<option value="{pricing.pk}" selected>Pricing offer</option>' in body
    assert f'<option value="{blog.pk}">Blog newsletter</option>' in body


def test_another_workspaces_message_is_not_a_filter_choice(owner_client, workspace):
    foreign = AnonymousMessageFactory(workspace=WorkspaceFactory(), name="Theirs")
    EventFactory(workspace=workspace, content_id=foreign.pk, action_type="viewed_content")
    response = owner_client.get(activity_url(workspace, message=foreign.pk))
    assert shown_event_ids(response) == []
    body = response.content.decode()
    assert "Select a valid choice" in body
    assert "Theirs" not in body


def test_event_detail_shows_the_raw_payload_pretty_printed(owner_client, workspace):
    event = EventFactory(
        workspace=workspace,
        payload={"type": "track", "event": "Paid", "properties": {"amount": 49, "note": "<b>"}},
    )
    response = owner_client.get(reverse("delivery:event", args=[workspace.pk, event.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert "  &quot;properties&quot;: {\n    &quot;amount&quot;: 49," in body
    assert "&lt;b&gt;" in body
    assert event.message_id in body


def test_event_detail_of_a_missing_event_is_404(owner_client, workspace):
    url = reverse("delivery:event", args=[workspace.pk, 999_999])
    assert owner_client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("delay", "text"),
    [
        (timedelta(seconds=0.2), ""),
        (timedelta(seconds=4), "4 s"),
        (timedelta(seconds=61), "1 min"),
        (timedelta(hours=2, minutes=10), "2 h"),
        (timedelta(days=3, hours=1), "3 days"),
    ],
)
def test_describe_delay(delay, text):
    assert describe_delay(delay) == text


@pytest.mark.parametrize(
    "query",
    [
        {"date_to": "9999-12-31"},
        {"date_from": "0001-01-01"},
        {"date_from": "0001-01-01", "date_to": "0001-01-02"},
        {"before": "0001-01-01T00:00:00+05:00_1"},
    ],
)
def test_filter_dates_in_a_far_year_are_refused_not_a_500(owner_client, workspace, query):
    # Near year 1 or 9999 the day arithmetic overflowed (issue 10, finding 9).
    workspace.time_zone = "Europe/Berlin"
    workspace.save()
    response = owner_client.get(activity_url(workspace, **query))
    assert response.status_code == 200
    if "before" not in query:
        assert "Pick a date between 2000-01-01 and 2100-12-31." in response.content.decode()


@pytest.mark.parametrize(
    ("fields", "message_name", "headline", "detail"),
    [
        (
            {
                "type": "track",
                "name": "Report Content Event",
                "action_type": "viewed_content",
                "content_id": 7,
            },
            "Pricing: 20% off the first year for teams and more",
            "Viewed ‘Pricing: 20% off the first year for tea…’",
            "Report Content Event",
        ),
        (
            {
                "type": "track",
                "name": "Report Content Event",
                "action_type": "clicked_content",
                "content_id": 7,
                "action_name": "claim",
            },
            "Pricing",
            "Clicked ‘Pricing’",
            "action “claim” · Report Content Event",
        ),
        (
            {
                "type": "track",
                "name": "Report Content Event",
                "action_type": "dismissed_content",
                "content_id": 7,
            },
            "",
            "Dismissed message #7",
            "Report Content Event",
        ),
        (
            {"type": "page", "name": "Pricing", "payload": {"properties": {"path": "/pricing"}}},
            "",
            "Visited /pricing",
            "Pricing",
        ),
        (
            {"type": "page", "name": "", "payload": {"context": {"page": {"path": "/blog/x"}}}},
            "",
            "Visited /blog/x",
            "",
        ),
        ({"type": "screen", "name": "Checkout", "payload": {}}, "", "Opened Checkout", ""),
        (
            {
                "type": "identify",
                "name": "",
                "user_id": "ann@example.com",
                "payload": {"traits": {"plan": "pro", "email": "ann@example.com"}},
            },
            "",
            "Identified as ann@example.com",
            "traits: email, plan",
        ),
        (
            {"type": "alias", "name": "", "user_id": "new", "payload": {"previousId": "old"}},
            "",
            "Linked old → new",
            "",
        ),
        (
            {"type": "group", "name": "", "payload": {"groupId": "acme"}},
            "",
            "Joined group acme",
            "",
        ),
        (
            {"type": "track", "name": "Signed Up", "payload": {"properties": {"b": 1, "a": 2}}},
            "",
            "Signed Up",
            "properties: a, b",
        ),
        ({"type": "track", "name": "Odd", "payload": "not a dict"}, "", "Odd", ""),
    ],
)
def test_each_event_reads_as_a_headline(fields, message_name, headline, detail):
    from delivery.models import Event

    event = Event(**{"payload": {}, **fields})
    assert describe_event(event, message_name=message_name) == (headline, detail)
