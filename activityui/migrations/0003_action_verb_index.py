"""A composite (verb, timestamp, id) index for the staff console's "this verb in this period".

With it the filtered page is one backward range scan and the capped count reads only the
index; without it both walk the (timestamp, id) index and test every row's verb.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("activityui", "0002_action_indexes"),
    ]

    operations = [
        migrations.RunSQL(
            sql="CREATE INDEX IF NOT EXISTS aui_action_verb_ts "
            "ON actstream_action (verb, timestamp, id)",
            reverse_sql="DROP INDEX IF EXISTS aui_action_verb_ts",
        ),
    ]
