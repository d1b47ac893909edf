"""Communities that existed before blueprints could be chosen used all four exchanges;
they keep using them."""

from django.db import migrations

KEYS = ("tools", "skills", "solar", "codesign")


def forward(apps, schema_editor):
    Community = apps.get_model("peers", "Community")
    CommunityExchange = apps.get_model("peers", "CommunityExchange")
    CommunityExchange.objects.bulk_create(
        [
            CommunityExchange(community_id=pk, key=key)
            for pk in Community.objects.values_list("pk", flat=True)
            for key in KEYS
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("peers", "0005_community_exchange")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
