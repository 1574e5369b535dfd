"""The metrics page's experiment section and the per-arm CSV, with real events."""

import csv
import io
import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from tests.factories import AnonymousMessageFactory, WorkspaceFactory
from tests.metrics.experiment_helpers import arm_event, bulk_arm, count_events, make_experiment
from tests.metrics.test_views import HX, url


def csv_url(message):
    return reverse("metrics:experiment-arms-csv", args=[message.workspace_id, message.pk])


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_page_shows_arms_lift_guidance_and_both_definitions(owner_client, message):
    make_experiment(message, variants=("B",))
    when = timezone.now() - timedelta(days=1)
    bulk_arm(message, "A", exposed=1000, converted=50, at=when)
    bulk_arm(message, "B", exposed=1000, converted=120, at=when)
    arm_event(message, "A-1", arm="A", at=when, action="clicked_content", action_name="signup")

    count_events()
    response = owner_client.get(url(message))
    assert response.status_code == 200
    html = response.content.decode()
    page = text(html)
    assert 'data-arm="A"' in html and 'data-arm="B"' in html
    assert re.search(r'data-arm="B".*?data-cell="exposed" data-label="[^"]*">1000<', html, re.S)
    assert re.search(r'data-arm="B".*?data-cell="converted" data-label="[^"]*">120<', html, re.S)
    assert re.search(r'data-arm="B".*?data-cell="rate" data-label="[^"]*">12%<', html, re.S)
    assert "B beats A: +140% conversion (95% interval +" in page
    assert 'data-lift="B"' in html and "lift-winner" in html  # the chart's interval
    assert "Converted (experiment)" in page and "their first exposure" in page
    assert "Converted (goal, in the funnel below)" in page
    assert re.search(r'data-action="signup"><td><code>signup</code></td><td class="num">1<', html)


def test_a_holdout_experiment_says_how_many_more_visitors_are_needed(owner_client, message):
    make_experiment(message, variants=(), holdout_percent=10)
    when = timezone.now() - timedelta(hours=3)
    bulk_arm(message, "A", exposed=300, converted=15, at=when)
    bulk_arm(message, "holdout", exposed=40, converted=1, at=when)
    count_events()
    page = text(owner_client.get(url(message)).content.decode())
    assert re.search(
        r"Not enough data yet for A versus the holdout \(about [\d,]+ more exposed visitors "
        r"needed for a 10% lift\)",
        page,
    )
    assert "Holdout" in page and "baseline" in page


def test_the_experiment_is_in_the_htmx_panel(owner_client, message):
    make_experiment(message, variants=("B",))
    arm_event(message, "v", arm="B", at=timezone.now())
    count_events()
    response = owner_client.get(url(message), **HX)
    assert response.status_code == 200
    assert b"data-experiment" in response.content
    assert b"<html" not in response.content


def test_a_page_without_an_experiment_has_no_experiment_section(owner_client, message):
    arm_event(message, "v", arm="B", at=timezone.now())
    count_events()
    html = owner_client.get(url(message)).content.decode()
    assert "data-experiment" not in html


def test_the_csv_has_one_row_per_arm_with_its_lift(owner_client, message):
    make_experiment(message, variants=("B",), holdout_percent=10)
    when = timezone.now() - timedelta(hours=3)
    bulk_arm(message, "A", exposed=20, converted=2, at=when)
    bulk_arm(message, "B", exposed=10, converted=0, at=when)
    bulk_arm(message, "holdout", exposed=5, converted=1, at=when)
    arm_event(message, "B-1", arm="B", at=when, action="clicked_content", action_name="pricing")
    count_events()
    response = owner_client.get(csv_url(message))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["arm"] for row in rows] == ["A", "B", "holdout"]
    a, b, holdout = rows
    assert (a["exposed"], a["converted"], a["conversion_rate"]) == ("20", "2", "0.1000")
    assert (b["clicks"], b["clicks: pricing"], b["lift_versus"]) == ("1", "1", "holdout")
    assert b["decision"] == "inconclusive" and float(b["lift_low_95"]) < float(b["lift_high_95"])
    assert (holdout["lift_versus"], holdout["lift_estimate"], holdout["decision"]) == ("", "", "")


def test_the_csv_of_a_message_without_an_experiment_has_only_its_header(owner_client, message):
    response = owner_client.get(csv_url(message))
    assert response.status_code == 200
    assert response.content.decode().splitlines() == [
        "arm,exposed,views,clicks,dismissals,converted,conversion_rate,lift_versus,"
        "lift_estimate,lift_low_95,lift_high_95,decision"
    ]


def test_another_workspaces_experiment_csv_is_404(owner_client):
    other = AnonymousMessageFactory(workspace=WorkspaceFactory(), launched=True)
    make_experiment(other)
    assert owner_client.get(csv_url(other)).status_code == 404
    assert owner_client.get(url(other)).status_code == 404


def test_outsiders_get_404_for_the_csv(outsider_client, message):
    make_experiment(message)
    assert outsider_client.get(csv_url(message)).status_code == 404


def test_a_repeated_experiment_page_reads_no_experiment_table(
    owner_client, message, django_assert_max_num_queries
):
    make_experiment(message, variants=("B",), holdout_percent=10)
    bulk_arm(message, "B", exposed=30, converted=3, at=timezone.now() - timedelta(hours=2))
    count_events()
    owner_client.get(url(message))
    # As a page without an experiment (test_views: at most 9), plus its variant keys; the arms
    # come from the cache.
    with django_assert_max_num_queries(10) as queries:
        owner_client.get(url(message))
    assert not [q for q in queries.captured_queries if "metrics_experiment" in q["sql"]]
