"""The starting taxonomy: categories with skills under them (site staff and organizers curate it from here)."""

from django.db import migrations
from django.utils.text import slugify

TAXONOMY = {
    "Repair": ["Bike repair", "Small electronics repair", "Furniture repair", "Sewing and mending", "Plumbing basics"],
    "Garden": ["Pruning", "Vegetable growing", "Lawn care", "Composting", "Tree planting"],
    "Cooking": ["Baking bread", "Meal prep", "Preserving and canning", "Vegetarian cooking"],
    "Tech help": ["Smartphone help", "Computer setup", "Online forms and banking", "Photo and video editing"],
    "Language": ["Conversation practice", "Homework help", "Translation", "Reading together"],
    "Childcare": ["Babysitting", "School pickup", "Playtime"],
    "Home": ["Painting and decorating", "Moving help", "Cleaning", "Flat-pack assembly"],
    "Care and company": ["Shopping for a neighbor", "Walks and company", "Pet sitting", "Dog walking"],
}


def forwards(apps, schema_editor):
    SkillCategory = apps.get_model("skills", "SkillCategory")
    Skill = apps.get_model("skills", "Skill")
    for category_name, skills in TAXONOMY.items():
        category, _ = SkillCategory.objects.get_or_create(slug=slugify(category_name), defaults={"name": category_name})
        for name in skills:
            Skill.objects.get_or_create(
                slug=slugify(name), community=None, defaults={"name": name, "category": category}
            )


class Migration(migrations.Migration):
    dependencies = [("skills", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
