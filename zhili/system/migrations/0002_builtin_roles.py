"""Create the built-in roles (三员分立 and town roles); permissions are granted after migrate."""

from django.db import migrations


def create_roles(apps, schema_editor):
    from zhili.system.roles import BUILTIN_ROLES

    Role = apps.get_model("system", "Role")
    for spec in BUILTIN_ROLES:
        Role.objects.update_or_create(code=spec["code"], defaults={**spec, "builtin": True})


def remove_roles(apps, schema_editor):
    from zhili.system.roles import BUILTIN_ROLES

    apps.get_model("system", "Role").objects.filter(code__in=[r["code"] for r in BUILTIN_ROLES]).delete()


class Migration(migrations.Migration):
    dependencies = [("system", "0001_initial")]
    operations = [migrations.RunPython(create_roles, remove_roles)]
