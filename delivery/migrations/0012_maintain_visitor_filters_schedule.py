"""Schedule the hourly maintenance of the filters of visitors with state (delivery/tasks.py,
delivery/sdk_api/known_visitors.py).

get_or_create by name: an operator who changed the schedule keeps their change when migrations
run again. Hourly although a filter is rebuilt once a day: one lost with Redis comes back
within the hour (delivery reads the database meanwhile).
"""

from django.db import migrations
from django.utils import timezone

SCHEDULE_NAME = "Maintain visitor filters"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "func": "delivery.tasks.maintain_visitor_filters",
            "schedule_type": "H",
            "repeats": -1,
            "next_run": timezone.now(),
        },
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0011_identifiers_compared_bytewise"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
