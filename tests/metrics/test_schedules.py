from django_q.models import Schedule

from metrics.schedules import SCHEDULES, ensure_schedules


def names():
    return sorted(
        Schedule.objects.filter(name__startswith="metrics:").values_list("name", flat=True)
    )


def test_migrate_created_the_rollup_and_reconciliation_schedules(db):
    assert names() == sorted(name for name, *_ in SCHEDULES)
    rollup = Schedule.objects.get(func="metrics.tasks.roll_up_metrics")
    assert (rollup.schedule_type, rollup.minutes, rollup.repeats) == (Schedule.MINUTES, 1, -1)


def test_ensuring_schedules_again_changes_nothing_but_fixes_an_edited_one(db):
    before = list(Schedule.objects.order_by("pk").values())
    ensure_schedules()
    assert list(Schedule.objects.order_by("pk").values()) == before

    Schedule.objects.filter(func="metrics.tasks.reconcile").update(minutes=5, func="x.y")
    next_run = Schedule.objects.get(name="metrics: reconcile conversions").next_run
    ensure_schedules()
    fixed = Schedule.objects.get(name="metrics: reconcile conversions")
    assert (fixed.func, fixed.minutes, fixed.next_run) == ("metrics.tasks.reconcile", 60, next_run)


def test_the_scheduled_functions_exist_and_run(db):
    from metrics import tasks

    assert "RollupRun" in tasks.roll_up_metrics()
    assert tasks.reconcile() == 0
