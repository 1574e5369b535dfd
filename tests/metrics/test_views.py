import csv
import io
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from anonmsg.models import Plan
from metrics.models import RollupState
from metrics.rollups import roll_up
from tests.factories import AnonymousMessageFactory, MessageEventFactory

HX = {"HTTP_HX_REQUEST": "true"}


def url(message, **query):
    base = reverse("metrics:message-metrics", args=[message.workspace_id, message.pk])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def record(message, *, views=0, clicks=0, dismissals=0, when=None, action="signup"):
    when = when or timezone.now() - timedelta(minutes=5)
    for n in range(views):
        MessageEventFactory(
            message=message, anonymous_id=f"v{n % 3}", timestamp=when, received_at=when
        )
    for _ in range(clicks):
        MessageEventFactory(
            message=message, timestamp=when, received_at=when, click=True, action_name=action
        )
    for _ in range(dismissals):
        MessageEventFactory(message=message, timestamp=when, received_at=when, dismiss=True)
    roll_up(now=timezone.now() + timedelta(minutes=1))


def test_the_page_shows_headline_numbers_definitions_chart_and_actions(owner_client, message):
    record(message, views=6, clicks=2, dismissals=1)
    record(message, clicks=1, action="learn-more")
    response = owner_client.get(url(message))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" in body and 'id="metrics-panel"' in body
    assert 'data-metric="views">6<' in body
    assert 'data-metric="clicks">3<' in body
    assert 'data-metric="unique-viewers">3<' in body
    assert 'data-metric="dismissals">1<' in body
    assert 'data-metric="ctr">50%<' in body
    assert "Times the message was displayed." in body
    assert "identified within 7 days of clicking it" in body
    assert body.count('<svg class="metrics-bars" viewBox') == 3
    assert body.count('class="metrics-plot metrics-time-axis"') == 1  # one shared time axis
    assert "<code>signup</code>" in body and "<code>learn-more</code>" in body
    assert 'hx-trigger="every 30s"' in body
    assert "Too few views to judge yet" in body


def test_many_views_and_no_clicks_suggest_working_on_the_content(owner_client, message):
    record(message, views=60)
    body = owner_client.get(url(message)).content.decode()
    assert "Many views but few clicks: try your content and call to action" in body


def test_htmx_gets_only_the_panel(owner_client, message):
    response = owner_client.get(url(message, range="24h"), **HX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="metrics-panel"')
    assert "<html" not in body
    assert "HX-Request" in response["Vary"]


def test_polling_gets_204_until_new_events_are_rolled_up(owner_client, message):
    record(message, views=2)
    first = owner_client.get(url(message, range="24h"), **HX)
    fingerprint = first.context["report"].fingerprint
    assert f"fingerprint={fingerprint}" in first.content.decode()

    unchanged = owner_client.get(url(message, range="24h", fingerprint=fingerprint), **HX)
    assert unchanged.status_code == 204
    assert unchanged.content == b""

    record(message, views=1)
    changed = owner_client.get(url(message, range="24h", fingerprint=fingerprint), **HX)
    assert changed.status_code == 200
    assert 'data-metric="views">3<' in changed.content.decode()
    assert changed.context["report"].fingerprint != fingerprint


def test_a_stale_fingerprint_without_htmx_still_renders_the_page(owner_client, message):
    first = owner_client.get(url(message, range="24h"), **HX)
    fingerprint = first.context["report"].fingerprint
    assert owner_client.get(url(message, range="24h", fingerprint=fingerprint)).status_code == 200


@pytest.mark.parametrize("key", ["24h", "7d", "30d", "90d"])
def test_each_preset_range_has_its_buckets(owner_client, message, key):
    response = owner_client.get(url(message, range=key))
    assert response.status_code == 200
    buckets = response.context["report"].buckets
    assert len(buckets) == {"24h": 24, "7d": 7, "30d": 30, "90d": 90}[key]
    assert 'aria-current="true">' + response.context["presets"][key] in response.content.decode()


def test_a_custom_range_counts_local_days(owner_client, message, workspace):
    workspace.time_zone = "America/New_York"
    workspace.save()
    today = timezone.now().astimezone(workspace.tz).date()
    record(message, views=2)
    first = today - timedelta(days=9)
    response = owner_client.get(url(message, range="custom", start=first, end=today))
    report = response.context["report"]
    assert len(report.buckets) == 10
    assert report.views == 2
    assert report.buckets[0].start.astimezone(workspace.tz).hour == 0
    assert "times in America/New_York" in response.content.decode()


def test_a_custom_range_ending_before_it_starts_shows_an_error(owner_client, message):
    response = owner_client.get(url(message, range="custom", start="2026-03-10", end="2026-03-01"))
    assert response.status_code == 200
    assert "The end date is before the start date." in response.content.decode()
    assert response.context["date_range"].key == "7d"


def test_a_custom_range_without_dates_shows_errors(owner_client, message):
    response = owner_client.get(url(message, range="custom"))
    assert "Choose the first day." in response.content.decode()


@pytest.mark.parametrize(
    ("start", "end"), [("0001-01-01", "0001-01-02"), ("2026-01-01", "9999-12-31")]
)
def test_a_custom_range_in_a_far_year_shows_an_error_not_a_500(
    owner_client, message, workspace, start, end
):
    # Near year 1 or 9999 the range arithmetic overflowed (issue 10, finding 9).
    workspace.time_zone = "Europe/Paris"
    workspace.save()
    response = owner_client.get(url(message, range="custom", start=start, end=end))
    assert response.status_code == 200
    assert "Choose dates between 2000-01-01 and 2100-12-31." in response.content.decode()
    assert response.context["date_range"].key == "7d"


def test_outsiders_get_404(outsider_client, message):
    assert outsider_client.get(url(message)).status_code == 404


def test_another_workspaces_message_is_404(owner_client, workspace):
    foreign = AnonymousMessageFactory()
    path = reverse("metrics:message-metrics", args=[workspace.pk, foreign.pk])
    assert owner_client.get(path).status_code == 404
    csv_path = reverse("metrics:message-metrics-csv", args=[workspace.pk, foreign.pk])
    assert owner_client.get(csv_path).status_code == 404


def test_a_free_workspace_sees_the_upgrade_page(owner_client, message, workspace):
    workspace.plan = Plan.FREE
    workspace.save()
    response = owner_client.get(url(message))
    assert "You might not have access to this feature!" in response.content.decode()


def test_anonymous_users_are_sent_to_login(client, message):
    response = client.get(url(message))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_csv_export_has_one_row_per_bucket_and_a_column_per_action(owner_client, message):
    record(message, views=4, clicks=2, dismissals=1)
    path = reverse("metrics:message-metrics-csv", args=[message.workspace_id, message.pk])
    response = owner_client.get(path + "?range=7d")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "day_start (UTC)", "views", "clicks", "dismissals", "conversions", "clicks: signup"
    ]  # fmt: skip
    assert len(rows) == 1 + 7
    assert rows[-1][1:] == ["4", "2", "1", "0", "2"]
    assert sum(int(row[1]) for row in rows[1:]) == 4


def test_the_page_reads_rollups_with_few_queries(
    owner_client, message, django_assert_max_num_queries
):
    record(message, views=3, clicks=1)
    owner_client.get(url(message))  # warm the session
    # Session, user, workspace, membership, message, rollups, unique viewers, rollup state.
    with django_assert_max_num_queries(9):
        assert owner_client.get(url(message, range="90d")).status_code == 200


def test_daily_buckets_follow_a_half_hour_time_zone(owner_client, message, workspace):
    workspace.time_zone = "Asia/Kolkata"
    workspace.save()
    record(message, views=2)
    report = owner_client.get(url(message, range="7d")).context["report"]
    assert [b.day for b in report.buckets] == sorted({b.day for b in report.buckets})
    assert report.buckets[-1].day == timezone.now().astimezone(workspace.tz).date()
    assert report.views == 2


def test_an_unknown_range_falls_back_to_the_last_7_days(owner_client, message):
    response = owner_client.get(url(message, range="forever"))
    assert response.status_code == 200
    assert response.context["date_range"].key == "7d"


def test_clicks_per_action_show_the_buttons_label_and_say_when_it_is_gone(owner_client, workspace):
    message = AnonymousMessageFactory(
        workspace=workspace,
        launched=True,
        content_html='<h1>Hi</h1><button data-action="claim-offer">Claim my discount</button>',
    )
    record(message, views=2, clicks=2, action="claim-offer")
    record(message, clicks=1, action="old-name")  # renamed since: no label to show
    body = owner_client.get(url(message)).content.decode()
    rows = re.findall(r'<tr data-action="([^"]+)"><td>(.*?)</td>', body)
    assert rows == [
        (
            "claim-offer",
            '<span class="metrics-action-label">Claim my discount</span> <code>claim-offer</code>',
        ),
        ("old-name", '<code>old-name</code> <span class="muted">(no longer in the message)</span>'),
    ]


def test_the_funnel_shows_each_step_and_the_rate_from_the_one_before(owner_client, message):
    record(message, views=6, clicks=2)  # 3 distinct viewers
    body = owner_client.get(url(message)).content.decode()
    assert body.index('data-metric="views">6<') < body.index('data-metric="unique-viewers">3<')
    assert body.index('data-metric="unique-viewers">3<') < body.index('data-metric="clicks">2<')
    assert body.index('data-metric="clicks">2<') < body.index('data-metric="conversions">0<')
    assert 'data-rate="unique_viewers">50%</strong>' in body
    assert 'data-rate="clicks">67%</strong>' in body
    assert 'data-rate="conversions">0%</strong>' in body
    assert '<rect class="funnel-fill funnel-fill-2" width="50.00%"' in body


def test_the_page_says_when_the_numbers_were_counted_and_how_old_they_can_be(
    owner_client, message, workspace
):
    workspace.time_zone = "Europe/Paris"
    workspace.save()
    record(message, views=1)
    state = RollupState.objects.get()
    state.ran_at = timezone.now() - timedelta(minutes=2)
    state.save()
    body = owner_client.get(url(message)).content.decode()
    local = state.ran_at.astimezone(ZoneInfo("Europe/Paris"))
    assert f">{local:%H:%M}</time>" in body
    assert "the numbers are up to a minute old" in body
    assert "have not been counted since" not in body


def test_a_stopped_rollup_job_is_said_with_what_to_do(owner_client, message):
    record(message, views=1)
    RollupState.objects.update(ran_at=timezone.now() - timedelta(minutes=30))
    body = owner_client.get(url(message)).content.decode()
    assert "New events have not been counted since" in body
    assert "bin/worker" in body
    assert "up to a minute old" not in body  # it is not, while the job is stopped


def test_a_rollup_job_that_never_ran_is_said(owner_client, message):
    body = owner_client.get(url(message)).content.decode()
    assert "Not counted yet" in body
    assert "Events have not been counted yet." in body


def test_polling_gets_the_panel_again_when_the_job_ran_without_new_numbers(owner_client, message):
    record(message, views=2)
    first = owner_client.get(url(message, range="24h"), **HX)
    query = first.context["poll_query"]
    assert "counted=" in query
    assert owner_client.get(f"{url(message)}?{query}", **HX).status_code == 204
    # The job ran again a few minutes later and found nothing: the stamp must move on.
    roll_up(now=timezone.now() + timedelta(minutes=3))
    again = owner_client.get(f"{url(message)}?{query}", **HX)
    assert again.status_code == 200
    assert 'data-metric="views">2<' in again.content.decode()
