from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from metrics.models import MessageHourlyStats
from tests.factories import AnonymousMessageFactory


def stats(message, **counts):
    MessageHourlyStats.objects.create(
        workspace=message.workspace,
        message=message,
        hour=timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=2),
        **counts,
    )


def test_the_message_list_shows_each_messages_headline_numbers(owner_client, workspace):
    live = AnonymousMessageFactory(workspace=workspace, launched=True, name="Live one")
    stats(live, views=1234, clicks=56, conversions=7)
    AnonymousMessageFactory(workspace=workspace, name="A draft")
    response = owner_client.get(reverse("campaigns:message-list", args=[workspace.pk]))
    body = response.content.decode()
    assert ">Views</th>" in body and ">Clicks</th>" in body and ">Converted</th>" in body
    metrics_url = reverse("metrics:message-metrics", args=[workspace.pk, live.pk])
    assert f'<a href="{metrics_url}" title="Open the metrics">1234</a>' in body
    assert '<td class="num">56</td>' in body and '<td class="num">7</td>' in body
    assert body.count('<td class="num muted">–</td>') == 3  # the draft


def test_the_list_adds_one_query_for_the_metrics(
    owner_client, workspace, django_assert_max_num_queries
):
    for n in range(5):
        stats(AnonymousMessageFactory(workspace=workspace, launched=True), views=n)
    path = reverse("campaigns:message-list", args=[workspace.pk])
    owner_client.get(path)
    with django_assert_max_num_queries(10):
        owner_client.get(path)


def test_the_detail_page_shows_the_all_time_numbers(owner_client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    stats(message, views=40, clicks=4, conversions=1)
    response = owner_client.get(
        reverse("campaigns:message-detail", args=[workspace.pk, message.pk])
    )
    body = response.content.decode()
    assert 'Metrics <span class="muted">(all time)</span>' in body
    assert '<div class="stat-value">40</div>' in body
