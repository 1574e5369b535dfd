from datetime import timedelta

from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from metrics import viewer_sets
from metrics.list_numbers import all_time_unique_viewers
from metrics.models import MessageHourlyStats, MessageViewerDay
from tests.factories import AnonymousMessageFactory


def stats(message, **counts):
    MessageHourlyStats.objects.create(
        workspace=message.workspace,
        message=message,
        hour=timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=2),
        **counts,
    )


def viewers(message, day_offsets_and_ids):
    """Day viewer sets: {days ago: [visitor ids]}."""
    today = timezone.now().date()
    for days_ago, ids in day_offsets_and_ids.items():
        MessageViewerDay.objects.create(
            message=message,
            day=today - timedelta(days=days_ago),
            viewer_count=len(ids),
            viewer_set=viewer_sets.serialize(ids),
        )


def test_the_message_list_shows_each_messages_headline_numbers(owner_client, workspace):
    live = AnonymousMessageFactory(workspace=workspace, launched=True, name="Live one")
    stats(live, views=1234, clicks=56, conversions=7)
    AnonymousMessageFactory(workspace=workspace, name="A draft")
    response = owner_client.get(reverse("campaigns:message-list", args=[workspace.pk]))
    body = response.content.decode()
    assert ">Views</th>" in body and ">Clicks</th>" in body and ">Converted</th>" in body
    metrics_url = reverse("metrics:message-metrics", args=[workspace.pk, live.pk])
    # Every count links to the metrics.
    for count in (1234, 56, 7):
        assert f'<a href="{metrics_url}" title="Open the metrics">{count}</a>' in body
    assert body.count('<td class="num muted" data-label=') == 3  # the draft


def test_rates_sit_beside_the_counts(owner_client, workspace):
    live = AnonymousMessageFactory(workspace=workspace, launched=True)
    stats(live, views=200, clicks=30, conversions=6)
    # 40 distinct viewers over two days (10 of them on both): conversion rate 6 ÷ 40.
    viewers(live, {0: range(1, 31), 1: range(21, 41)})
    body = owner_client.get(reverse("campaigns:message-list", args=[workspace.pk])).content.decode()
    assert 'title="Click-through rate: clicks ÷ views">15%</span>' in body
    assert 'title="Conversion rate: converted ÷ unique viewers">15%</span>' in body


def test_a_message_without_views_has_zero_rates(owner_client, workspace):
    AnonymousMessageFactory(workspace=workspace, launched=True)
    body = owner_client.get(reverse("campaigns:message-list", args=[workspace.pk])).content.decode()
    assert 'title="Click-through rate: clicks ÷ views">0%</span>' in body


def test_all_time_unique_viewers_are_cached_until_the_view_count_changes(
    workspace, django_assert_num_queries
):
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    viewers(message, {0: [1, 2, 3], 3: [3, 4]})
    with django_assert_num_queries(1):
        assert all_time_unique_viewers(views_by_message={message.pk: 9}) == {message.pk: 4}
    viewers(message, {1: [5]})
    with django_assert_num_queries(0):  # same view count: cached
        assert all_time_unique_viewers(views_by_message={message.pk: 9}) == {message.pk: 4}
    with django_assert_num_queries(1):  # a new view: counted again
        assert all_time_unique_viewers(views_by_message={message.pk: 10}) == {message.pk: 5}
    with django_assert_num_queries(0):  # never viewed: nothing to read
        assert all_time_unique_viewers(views_by_message={message.pk: 0}) == {message.pk: 0}


def test_the_list_adds_two_queries_for_the_metrics(
    owner_client, workspace, django_assert_max_num_queries
):
    for n in range(5):
        message = AnonymousMessageFactory(workspace=workspace, launched=True)
        stats(message, views=n + 1)
        viewers(message, {0: [n]})
    path = reverse("campaigns:message-list", args=[workspace.pk])
    owner_client.get(path)
    with django_assert_max_num_queries(10):
        owner_client.get(path)  # unique viewers cached
    cache.clear()
    with django_assert_max_num_queries(11):
        owner_client.get(path)  # one query for every page's unique viewers


def test_the_detail_page_shows_the_all_time_numbers(owner_client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    stats(message, views=40, clicks=4, conversions=1)
    response = owner_client.get(
        reverse("campaigns:message-detail", args=[workspace.pk, message.pk])
    )
    body = response.content.decode()
    assert 'Metrics <span class="muted">(all time)</span>' in body
    assert '<div class="stat-value">40</div>' in body
