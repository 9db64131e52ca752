"""Index the resident–tag links tag first: "residents with tag T in grid G" reads only T's links.

The auto-created through table is indexed (resident, tag) and (tag); a (tag, resident) index lets
PostgreSQL and SQLite join from the tag side without reading every link of the tag into a hash.
"""

from django.db import migrations

SQL = "CREATE INDEX people_resident_tags_tag_resident ON people_resident_tags (tag_id, resident_id)"


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]

    operations = [
        migrations.RunSQL(SQL, reverse_sql="DROP INDEX people_resident_tags_tag_resident"),
    ]
