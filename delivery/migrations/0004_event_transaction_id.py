"""Events record the transaction that inserted them, so that the rollups read message events in
commit order (anonmsg/commit_order.py).

On PostgreSQL the column is added without a default, which is instant, and the default is set
afterwards: existing rows are not rewritten and keep NULL (metrics 0004 gives the ones the
rollup had not counted yet a position). The index covers message events only.
"""

from django.db import migrations, models

import anonmsg.commit_order


def set_default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        table = schema_editor.quote_name(apps.get_model("delivery", "Event")._meta.db_table)
        schema_editor.execute(
            f"ALTER TABLE {table} ALTER COLUMN transaction_id "
            "SET DEFAULT (pg_current_xact_id()::text::bigint)"
        )


class Migration(migrations.Migration):
    dependencies = [("delivery", "0003_purge_anonymous_data_schedule")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="event",
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
                    model_name="event",
                    name="transaction_id",
                    field=models.BigIntegerField(blank=True, editable=False, null=True),
                ),
                migrations.RunPython(set_default, migrations.RunPython.noop),
            ],
        ),
        migrations.AddIndex(
            model_name="event",
            index=models.Index(
                condition=models.Q(("content_id__isnull", False)),
                fields=["transaction_id", "id"],
                name="event_message_transaction",
            ),
        ),
    ]
