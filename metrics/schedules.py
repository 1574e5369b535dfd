"""The periodic jobs, as django-q2 schedules created idempotently after every migrate."""

from django_q.models import Schedule

# Metrics pages say how old their numbers can be from this (metrics/freshness.py).
ROLL_UP_EVERY_MINUTES = 1

SCHEDULES = [
    # name, function, schedule type, minutes
    (
        "metrics: roll up message events",
        "metrics.tasks.roll_up_metrics",
        Schedule.MINUTES,
        ROLL_UP_EVERY_MINUTES,
    ),
    ("metrics: reconcile conversions", "metrics.tasks.reconcile", Schedule.MINUTES, 60),
]


def ensure_schedules(**kwargs) -> None:
    """Create the schedules that are missing; fix the function and period of existing ones
    (keeping their next run, so a migrate does not reset them)."""
    for name, func, schedule_type, minutes in SCHEDULES:
        schedule = Schedule.objects.filter(name=name).first()
        if schedule is None:
            Schedule.objects.create(
                name=name, func=func, schedule_type=schedule_type, minutes=minutes, repeats=-1
            )
        elif (schedule.func, schedule.schedule_type, schedule.minutes) != (
            func,
            schedule_type,
            minutes,
        ):
            schedule.func, schedule.schedule_type, schedule.minutes = func, schedule_type, minutes
            schedule.save(update_fields=["func", "schedule_type", "minutes"])
