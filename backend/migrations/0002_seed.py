"""The rows the endpoints read. A migration, so it runs once per database, like the schema."""

from django.db import migrations

from backend.database import SEED_ROWS


def seed(apps, schema_editor):
    Item = apps.get_model("backend", "Item")
    Item.objects.using(schema_editor.connection.alias).bulk_create(
        Item(name=f"item-{number:03d}", price_cents=100 + 7 * number) for number in range(1, SEED_ROWS + 1)
    )


def unseed(apps, schema_editor):
    apps.get_model("backend", "Item").objects.using(schema_editor.connection.alias).all().delete()


class Migration(migrations.Migration):
    dependencies = [("backend", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
