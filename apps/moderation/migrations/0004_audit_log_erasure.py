"""The audit log stays append-only, with one sanctioned exception: when a member deletes
their account, the labels and reasons that name them are rewritten to their pseudonym
(``apps.moderation.erasure``), inside the deletion's transaction, which says so with
``SET LOCAL p2pcommons.erasure = 'on'``. Nothing else of a row may change then either:
who acted, what, where, about whom, when. A no-op on SQLite (the model guards it there)."""

from django.db import migrations

ALLOW_ERASURE = """
CREATE OR REPLACE FUNCTION moderation_refuse_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_setting('p2pcommons.erasure', true) = 'on'
       AND ROW(NEW.id, NEW.action, NEW.actor_id, NEW.community_id, NEW.content_type_id, NEW.object_id,
               NEW.subject_id, NEW.flag_id, NEW.created_at)
           IS NOT DISTINCT FROM
           ROW(OLD.id, OLD.action, OLD.actor_id, OLD.community_id, OLD.content_type_id, OLD.object_id,
               OLD.subject_id, OLD.flag_id, OLD.created_at)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the moderation log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
"""

REFUSE_ALL = """
CREATE OR REPLACE FUNCTION moderation_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the moderation log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ALLOW_ERASURE.replace("%", "%%"))  # no parameters: a literal %


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REFUSE_ALL.replace("%", "%%"))


class Migration(migrations.Migration):
    dependencies = [("moderation", "0003_flag_counts")]

    operations = [migrations.RunPython(forwards, backwards)]
