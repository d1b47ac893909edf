"""Invariant 1 in the database, on PostgreSQL: two live reservations of one tool never
overlap on [starts_at, blocked_until). SQLite has no exclusion constraints; there the
service takes the write lock first (IMMEDIATE transactions)."""

from django.db import migrations

CONSTRAINT = "tools_reservation_no_overlap"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist;")
    schema_editor.execute(
        f"ALTER TABLE tools_reservation ADD CONSTRAINT {CONSTRAINT} EXCLUDE USING gist ("
        "tool_id WITH =, tstzrange(starts_at, blocked_until, '[)') WITH &&"
        ") WHERE (status IN ('requested', 'approved', 'picked_up'));"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE tools_reservation DROP CONSTRAINT IF EXISTS {CONSTRAINT};")


class Migration(migrations.Migration):
    dependencies = [("tools", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
