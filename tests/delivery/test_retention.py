import importlib
from datetime import timedelta

import pytest
from django.apps import apps as global_apps
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from delivery import tasks
from delivery.models import Event, Visitor, VisitorMessageState
from delivery.retention import purge_anonymous_data, retention_period
from tests.factories import (
    AnonymousMessageFactory,
    EventFactory,
    ProfileFactory,
    VisitorFactory,
    VisitorMessageStateFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("days", "window_hours", "expected"),
    [
        (30, 0, timedelta(days=30)),
        (30, 168, timedelta(days=30)),
        (30, 720, timedelta(days=30)),
        (7, 720, timedelta(days=30)),
        (1, 25, timedelta(hours=25)),
        (2, 1, timedelta(days=2)),
    ],
)
def test_retention_period_is_the_setting_but_never_shorter_than_a_goal_window(
    days, window_hours, expected
):
    assert (
        retention_period(configured_days=days, longest_goal_window_hours=window_hours) == expected
    )


def days_ago(days, hours=0):
    return timezone.now() - timedelta(days=days, hours=hours)


def anonymous_visitor(workspace, *, last_seen, events=2, **kwargs):
    visitor = VisitorFactory(
        workspace=workspace, first_seen_at=last_seen, last_seen_at=last_seen, **kwargs
    )
    for _ in range(events):
        EventFactory(workspace=workspace, anonymous_id=visitor.anonymous_id, timestamp=last_seen)
    return visitor


def test_old_never_identified_visitors_are_deleted_with_their_events_and_states(workspace):
    old = anonymous_visitor(workspace, last_seen=days_ago(31))
    VisitorMessageStateFactory(visitor=old)
    recent = anonymous_visitor(workspace, last_seen=days_ago(29))

    purged = purge_anonymous_data()

    assert (purged.visitors, purged.events) == (1, 2)
    assert list(Visitor.objects.all()) == [recent]
    assert set(Event.objects.values_list("anonymous_id", flat=True)) == {recent.anonymous_id}
    assert not VisitorMessageState.objects.exists()


def test_identified_visitors_and_peoples_events_are_kept(workspace):
    profile = ProfileFactory(workspace=workspace)
    identified = anonymous_visitor(workspace, last_seen=days_ago(90), profile=profile)
    EventFactory(
        workspace=workspace, anonymous_id="", user_id=profile.user_id, timestamp=days_ago(90)
    )

    assert purge_anonymous_data().visitors == 0
    assert list(Visitor.objects.all()) == [identified]
    assert Event.objects.count() == 3


def test_a_live_messages_longer_goal_window_extends_retention_in_its_workspace(settings, workspace):
    settings.ANONMSG_RETENTION_DAYS = 1
    AnonymousMessageFactory(workspace=workspace, launched=True, goal_window_hours=72)
    AnonymousMessageFactory(workspace=workspace, goal_window_hours=720)  # a draft: not live
    within_window = anonymous_visitor(workspace, last_seen=days_ago(2))
    anonymous_visitor(workspace, last_seen=days_ago(4))
    elsewhere = WorkspaceFactory()
    anonymous_visitor(elsewhere, last_seen=days_ago(2))

    purged = purge_anonymous_data()

    assert purged.visitors == 2
    assert list(Visitor.objects.all()) == [within_window]


def test_purging_twice_deletes_nothing_the_second_time(workspace):
    for _ in range(3):
        anonymous_visitor(workspace, last_seen=days_ago(40))

    assert purge_anonymous_data().visitors == 3
    second = purge_anonymous_data()
    assert (second.visitors, second.events) == (0, 0)


def test_purging_goes_through_chunks(workspace, monkeypatch):
    monkeypatch.setattr("delivery.retention.CHUNK", 2)
    for _ in range(5):
        anonymous_visitor(workspace, last_seen=days_ago(40), events=1)

    purged = purge_anonymous_data()

    assert (purged.visitors, purged.events) == (5, 5)
    assert not Visitor.objects.exists()


def test_a_dry_run_counts_without_deleting(workspace):
    anonymous_visitor(workspace, last_seen=days_ago(40), events=3)

    purged = purge_anonymous_data(dry_run=True)

    assert (purged.visitors, purged.events) == (1, 3)
    assert Visitor.objects.count() == 1
    assert Event.objects.count() == 3


def test_the_management_command_purges_and_reports(workspace, capsys):
    anonymous_visitor(workspace, last_seen=days_ago(40), events=1)

    call_command("purge_anonymous_data", "--dry-run")
    assert "Would delete 1 anonymous visitor(s) and 1 event(s)" in capsys.readouterr().out
    call_command("purge_anonymous_data")
    assert "Deleted 1 anonymous visitor(s) and 1 event(s)" in capsys.readouterr().out
    assert not Visitor.objects.exists()


def test_the_task_purges_and_returns_counts(workspace):
    anonymous_visitor(workspace, last_seen=days_ago(40), events=2)
    assert tasks.purge_anonymous_data() == {"visitors": 1, "events": 2}


def test_a_daily_schedule_runs_the_purge_task():
    schedule = Schedule.objects.get(name="Purge anonymous data")
    assert schedule.func == "delivery.tasks.purge_anonymous_data"
    assert schedule.schedule_type == Schedule.DAILY
    assert schedule.repeats == -1


def test_creating_the_schedule_again_keeps_one_and_the_operators_changes():
    migration = importlib.import_module("delivery.migrations.0003_purge_anonymous_data_schedule")
    Schedule.objects.filter(name=migration.SCHEDULE_NAME).update(repeats=0)  # turned off

    migration.create_schedule(global_apps, None)

    schedule = Schedule.objects.get(name=migration.SCHEDULE_NAME)
    assert schedule.repeats == 0


def test_a_visitor_whose_last_seen_lags_its_newest_event_is_kept_with_all_its_events(workspace):
    # last_seen_at is rewritten at most once a minute (and may lag for other reasons): the
    # newest event, not the row, says when the visitor was last active.
    lagging = anonymous_visitor(workspace, last_seen=days_ago(31), events=1)
    EventFactory(workspace=workspace, anonymous_id=lagging.anonymous_id, timestamp=days_ago(29))

    purged = purge_anonymous_data()

    assert (purged.visitors, purged.events) == (0, 0)
    assert list(Visitor.objects.all()) == [lagging]
    assert Event.objects.filter(anonymous_id=lagging.anonymous_id).count() == 2


def test_a_dry_run_counts_what_the_purge_deletes_when_last_seen_lags(workspace):
    lagging = anonymous_visitor(workspace, last_seen=days_ago(31), events=1)
    EventFactory(workspace=workspace, anonymous_id=lagging.anonymous_id, timestamp=days_ago(29))
    anonymous_visitor(workspace, last_seen=days_ago(40), events=2)

    counted = purge_anonymous_data(dry_run=True)
    purged = purge_anonymous_data()

    assert (counted.visitors, counted.events) == (purged.visitors, purged.events) == (1, 2)


def test_no_anonymous_event_outlives_its_visitor(workspace):
    # An expired visitor goes with every one of its anonymous events, whatever their
    # timestamps (a late event may carry an old one, a clock-skewed one a recent one).
    expired = anonymous_visitor(workspace, last_seen=days_ago(40), events=1)
    EventFactory(workspace=workspace, anonymous_id=expired.anonymous_id, timestamp=days_ago(60))
    kept = anonymous_visitor(workspace, last_seen=days_ago(1), events=1)

    purge_anonymous_data()

    visitors = set(Visitor.objects.values_list("anonymous_id", flat=True))
    events_of = set(Event.objects.values_list("anonymous_id", flat=True))
    assert visitors == {kept.anonymous_id}
    assert events_of <= visitors


def test_visitors_kept_for_a_recent_event_do_not_stop_the_chunks(workspace, monkeypatch):
    monkeypatch.setattr("delivery.retention.CHUNK", 2)
    lagging = []
    for _ in range(3):
        visitor = anonymous_visitor(workspace, last_seen=days_ago(40), events=1)
        EventFactory(workspace=workspace, anonymous_id=visitor.anonymous_id, timestamp=days_ago(1))
        lagging.append(visitor)
    for _ in range(3):
        anonymous_visitor(workspace, last_seen=days_ago(40), events=1)

    counted = purge_anonymous_data(dry_run=True)
    purged = purge_anonymous_data()

    assert (counted.visitors, counted.events) == (purged.visitors, purged.events) == (3, 3)
    assert set(Visitor.objects.all()) == set(lagging)
