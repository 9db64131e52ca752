from django.db import migrations


def seed(apps, schema_editor):
    from zhili.iot.catalog import seed_metrics

    seed_metrics(apps.get_model("iot", "Metric"))


class Migration(migrations.Migration):
    dependencies = [("iot", "0002_alter_device_options")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
