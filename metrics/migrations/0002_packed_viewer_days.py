"""Viewer sets packed one row per (message, day) instead of one row per viewer.

The old rows are dropped and the rollup watermark reset, so the scheduled job counts the raw
events again (within the retention period) and refills both tables.
"""

import django.db.models.deletion
from django.db import migrations, models


def reset_watermark(apps, schema_editor):
    apps.get_model("metrics", "RollupState").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0001_initial"),
        ("metrics", "0001_initial"),
    ]

    operations = [
        migrations.DeleteModel(name="MessageViewerDay"),
        migrations.CreateModel(
            name="MessageViewerDay",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField()),
                ("viewer_count", models.PositiveIntegerField(default=0)),
                ("viewers", models.BinaryField(default=b"")),
                ("hours", models.BinaryField(default=b"")),
                (
                    "message",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="campaigns.anonymousmessage",
                    ),
                ),
            ],
            options={
                "ordering": ["message", "day"],
                "constraints": [
                    models.UniqueConstraint(fields=("message", "day"), name="one_viewer_row_per_day")
                ],
            },
        ),
        migrations.RunPython(reset_watermark, migrations.RunPython.noop),
    ]
