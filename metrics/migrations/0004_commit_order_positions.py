"""The rollup watermark becomes a position in commit order (anonmsg/commit_order.py) instead of
the last id counted, which skipped rows whose transaction committed late (issue 10, finding 8).

Conversions record their inserting transaction, like events (delivery 0004). On PostgreSQL the
rows the old watermark had not passed yet get position 0, so that the first run reads them; on
SQLite the position is the next id.
"""

from django.db import migrations, models

import anonmsg.commit_order


def set_default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        table = schema_editor.quote_name(apps.get_model("metrics", "Conversion")._meta.db_table)
        schema_editor.execute(
            f"ALTER TABLE {table} ALTER COLUMN transaction_id "
            "SET DEFAULT (pg_current_xact_id()::text::bigint)"
        )


def carry_over_watermark(apps, schema_editor):
    RollupState = apps.get_model("metrics", "RollupState")
    Event = apps.get_model("delivery", "Event")
    Conversion = apps.get_model("metrics", "Conversion")
    state = RollupState.objects.filter(name="message-stats").first()
    last_event_id = state.last_event_id if state else 0
    last_conversion_id = state.last_conversion_id if state else 0
    if schema_editor.connection.vendor == "postgresql":
        Event.objects.filter(
            transaction_id__isnull=True, content_id__isnull=False, pk__gt=last_event_id
        ).update(transaction_id=0)
        Conversion.objects.filter(transaction_id__isnull=True, pk__gt=last_conversion_id).update(
            transaction_id=0
        )
    elif state:
        state.event_position = last_event_id + 1
        state.conversion_position = last_conversion_id + 1
        state.save(update_fields=["event_position", "conversion_position"])


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0003_roaring_viewer_sets"),
        ("delivery", "0004_event_transaction_id"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="conversion",
                    name="transaction_id",
                    field=models.BigIntegerField(
                        blank=True,
                        db_default=anonmsg.commit_order.CurrentTransactionId(),
                        editable=False,
                        null=True,
                    ),
                ),
            ],
            database_operations=[
                migrations.AddField(
                    model_name="conversion",
                    name="transaction_id",
                    field=models.BigIntegerField(blank=True, editable=False, null=True),
                ),
                migrations.RunPython(set_default, migrations.RunPython.noop),
            ],
        ),
        migrations.AddIndex(
            model_name="conversion",
            index=models.Index(fields=["transaction_id", "id"], name="conversion_transaction"),
        ),
        migrations.AddField(
            model_name="rollupstate",
            name="event_position",
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="rollupstate",
            name="conversion_position",
            field=models.BigIntegerField(default=0),
        ),
        migrations.RunPython(carry_over_watermark, migrations.RunPython.noop),
        migrations.RemoveField(model_name="rollupstate", name="last_event_id"),
        migrations.RemoveField(model_name="rollupstate", name="last_conversion_id"),
    ]
