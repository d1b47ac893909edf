"""On PostgreSQL, refuse UPDATE and DELETE of moderation log rows in the database itself,
whatever client tries. (SQLite relies on the model's own refusal.)"""

from django.db import migrations

from p2pcommons.db import append_only_triggers


class Migration(migrations.Migration):
    dependencies = [("moderation", "0001_initial")]

    operations = [
        append_only_triggers(
            tables=("moderation_moderationaction",),
            function="moderation_refuse_change",
            message="the moderation log is append-only",
        )
    ]
