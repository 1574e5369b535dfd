"""The upgrade to the commit-order watermark (delivery 0004, metrics 0004): events the old id
watermark had not passed yet are still counted, those it had passed are not read again."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from metrics.models import MessageHourlyStats
from metrics.ranges import floor_hour
from metrics.rollups import roll_up
from tests.factories import AnonymousMessageFactory

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("delivery", "0003_purge_anonymous_data_schedule"),
    ("metrics", "0003_roaring_viewer_sets"),
]
H = timedelta(hours=1)


def migrate(targets=None) -> None:
    """Migrate to `targets` (default: the latest migrations)."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets or executor.loader.graph.leaf_nodes())


def test_events_the_old_watermark_had_not_passed_are_counted_after_the_upgrade():
    message = AnonymousMessageFactory(launched=True)
    now = timezone.now()
    counted_hour, pending_hour = floor_hour(now - 3 * H), floor_hour(now - H)
    try:
        migrate(BEFORE)
        old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
        Event = old.get_model("delivery", "Event")
        events = [
            Event.objects.create(
                workspace_id=message.workspace_id,
                message_id=f"m{n}",
                type="track",
                name="Report Content Event",
                anonymous_id=f"anon-{n}",
                timestamp=at,
                received_at=at,
                content_id=message.pk,
                action_type="viewed_content",
                payload={},
            )
            for n, at in enumerate([counted_hour] * 2 + [pending_hour] * 3)
        ]
        # The old job had counted the first two (its watermark: their last id).
        old.get_model("metrics", "RollupState").objects.create(
            name="message-stats", last_event_id=events[1].pk
        )
        old.get_model("metrics", "MessageHourlyStats").objects.create(
            workspace_id=message.workspace_id, message_id=message.pk, hour=counted_hour, views=2
        )
    finally:
        migrate()

    run = roll_up(now=now)
    assert run.events == 3  # only the ones not counted yet
    assert dict(MessageHourlyStats.objects.values_list("hour", "views")) == {
        counted_hour: 2,
        pending_hour: 3,
    }
