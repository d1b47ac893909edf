from django.db import migrations, models

HELP = "Whether the reporter was a member in good standing, so the report counts toward hiding."


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0002_append_only_trigger"),
    ]

    operations = [
        # Reports made before standing existed counted under the old rule: they keep counting.
        migrations.AddField(
            model_name="flag",
            name="counts",
            field=models.BooleanField(default=True, editable=False, help_text=HELP),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="flag",
            name="counts",
            field=models.BooleanField(default=False, editable=False, help_text=HELP),
        ),
        migrations.AddIndex(
            model_name="flag",
            index=models.Index(fields=["reporter", "community", "created_at"], name="moderation__reporte_717160_idx"),
        ),
    ]
