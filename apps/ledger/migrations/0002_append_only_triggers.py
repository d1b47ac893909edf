"""On PostgreSQL, refuse UPDATE and DELETE of transfers, entries and limit changes in the
database itself, whatever client tries. (SQLite relies on the models' own refusal.)"""

from django.db import migrations

from p2pcommons.db import append_only_triggers


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        append_only_triggers(
            tables=("ledger_transfer", "ledger_entry", "ledger_limitchange"),
            function="ledger_refuse_change",
            message="ledger rows are append-only (issue a reversing transfer)",
        )
    ]
