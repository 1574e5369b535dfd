"""Schedule the daily purge of never-identified anonymous data (see delivery/retention.py).

get_or_create by name: an operator who changed the schedule (time, or turned it off by setting
repeats to 0) keeps their change when migrations run again.
"""

from datetime import timedelta

from django.db import migrations
from django.utils import timezone

SCHEDULE_NAME = "Purge anonymous data"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    tomorrow = timezone.now() + timedelta(days=1)
    Schedule.objects.get_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "func": "delivery.tasks.purge_anonymous_data",
            "schedule_type": "D",
            "repeats": -1,
            # 03:15 UTC, a quiet hour for most workspaces.
            "next_run": tomorrow.replace(hour=3, minute=15, second=0, microsecond=0),
        },
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0002_profile_merged_into"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
