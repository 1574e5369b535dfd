"""Viewer sets as roaring bitmaps of visitor ids: per hour on the hourly rows, per day in
MessageViewerDay. The rollup watermark is reset so that the scheduled job recomputes the
buckets within the retention period (and fills the new sets); older buckets keep their counts.
"""

from django.db import migrations, models


def reset(apps, schema_editor):
    apps.get_model("metrics", "MessageViewerDay").objects.all().delete()
    apps.get_model("metrics", "RollupState").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("metrics", "0002_packed_viewer_days")]

    operations = [
        migrations.RunPython(reset, migrations.RunPython.noop),
        migrations.RemoveField(model_name="messageviewerday", name="viewers"),
        migrations.RemoveField(model_name="messageviewerday", name="hours"),
        migrations.AddField(
            model_name="messageviewerday",
            name="viewer_set",
            field=models.BinaryField(default=b""),
        ),
        migrations.AddField(
            model_name="messagehourlystats",
            name="viewer_set",
            field=models.BinaryField(default=b""),
        ),
    ]
