"""Database building blocks shared by the apps: append-only records."""

from __future__ import annotations

from django.db import migrations, models


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an append-only record."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise self.model.immutable_error(self.model.immutable_message)

    def delete(self):
        raise self.model.immutable_error(self.model.immutable_message)


class AppendOnlyModel(models.Model):
    """Inserts only: ``save()`` of an existing row, ``delete()`` and queryset
    ``update()``/``delete()`` raise ``immutable_error``. Pair it with
    ``append_only_triggers`` in a migration so PostgreSQL refuses it too."""

    immutable_error: type[Exception] = AppendOnlyError
    immutable_message = "These records are append-only."

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise self.immutable_error(f"{type(self).__name__} rows can't be changed once recorded.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise self.immutable_error(f"{type(self).__name__} rows can't be deleted.")


def append_only_triggers(*, tables: tuple[str, ...], function: str, message: str) -> migrations.RunPython:
    """A migration operation that makes PostgreSQL itself refuse UPDATE and DELETE on
    ``tables`` (a BEFORE trigger raising ``message``). A no-op on SQLite."""
    escaped = message.replace("%", "%%").replace("'", "''")
    create = f"""
    CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION '{escaped}: %% on %% refused', TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
    END;
    $$ LANGUAGE plpgsql;
    """

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(create)
        for table in tables:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {function}();"
            )

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table in tables:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {function}();")

    return migrations.RunPython(forwards, backwards)
