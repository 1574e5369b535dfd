"""Schedule the hourly maintenance of the events' partitions (delivery/tasks.py).

get_or_create by name: an operator who changed the schedule keeps their change when migrations
run again. Hourly although a run is needed only once a day: partitions are created a week
ahead, and an hourly run catches up soon after an outage of the task cluster.
"""

from django.db import migrations
from django.utils import timezone

SCHEDULE_NAME = "Maintain event partitions"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "func": "delivery.tasks.maintain_event_partitions",
            "schedule_type": "H",
            "repeats": -1,
            "next_run": timezone.now(),
        },
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("delivery", "0005_partitioned_events")]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
