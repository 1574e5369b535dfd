"""The rollup job counts new rows once instead of recomputing whole hours (metrics/new_rows.py):
`RollupState.progress` records how far, per table. An existing state keeps its position, and
its first run recomputes the buckets of the rows at or past it, as the old job did.

`MessageStatsVersion` keys the cached reports; messages with rollups get one now.
"""

import secrets

import django.db.models.deletion
from django.db import migrations, models


def version_every_message_with_stats(apps, schema_editor):
    MessageHourlyStats = apps.get_model("metrics", "MessageHourlyStats")
    MessageStatsVersion = apps.get_model("metrics", "MessageStatsVersion")
    message_ids = MessageHourlyStats.objects.values_list("message_id", flat=True).distinct()
    MessageStatsVersion.objects.bulk_create(
        [MessageStatsVersion(message_id=pk, token=secrets.token_hex(8)) for pk in message_ids],
        batch_size=1000,
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0002_content_summary"),
        ("metrics", "0004_commit_order_positions"),
    ]

    operations = [
        migrations.CreateModel(
            name="MessageStatsVersion",
            fields=[
                (
                    "message",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="stats_version",
                        serialize=False,
                        to="campaigns.anonymousmessage",
                    ),
                ),
                ("token", models.CharField(max_length=32)),
            ],
        ),
        migrations.AddField(
            model_name="rollupstate",
            name="progress",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.RunPython(version_every_message_with_stats, migrations.RunPython.noop),
    ]
