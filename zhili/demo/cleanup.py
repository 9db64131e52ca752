"""Find and delete demo data (``data_source="demo"``; demo users by their ``demo.invalid`` e-mail).

Deletion goes through the ORM in chunks, so the usual ``on_delete`` rules apply to records that
users created and that point at demo rows (they are set to NULL, or the deletion is refused with
``ProtectedError`` when they protect a demo row), and memory stays bounded at any scale.
"""

from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Q
from django.db.models.deletion import get_candidate_relations_to_delete

from zhili.accounts.models import User
from zhili.demo import catalog
from zhili.demo.context import DEMO
from zhili.demo.hooks import demo_hooks
from zhili.orgs.models import BusinessUnit, Department
from zhili.people.models import FloatingRegistration, Household, Resident, Tag
from zhili.places.models import Building, Division, Grid, House, Road

CHUNK = 5000
DEMO_USERS = Q(email__endswith="@" + catalog.DEMO_EMAIL_DOMAIN, is_superuser=False)
#: Leaves first: every model is deleted before the models it points to.
ORDER = (FloatingRegistration, Resident, Household, BusinessUnit, House, Building, Road)
TREES = (Grid, Division)


class DemoConflict(CommandError):
    """Demo data cannot be built because real records use the demo town's codes or usernames."""


def demo_exists() -> bool:
    models = (Division, Department, Building, Resident, Household, Grid)
    return (
        any(m.objects.filter(data_source=DEMO).exists() for m in models)
        or User.objects.filter(DEMO_USERS).exists()
    )


def check_conflicts() -> None:
    """Raise DemoConflict if non-demo rows hold the demo town's division codes or usernames."""
    prefix = catalog.COUNTY_CODE + catalog.TOWN_DIGITS
    if Division.objects.filter(code__startswith=prefix).exclude(data_source=DEMO).exists():
        raise DemoConflict(
            f"Divisions with codes {prefix}… exist and are not demo data; not building the demo."
        )
    offices = "|".join(prefix for *_rest, prefix in catalog.OFFICES)
    pattern = rf"^((grid|cun)[0-9]{{2,3}}|({offices})[0-9]{{2}}$)"
    taken = User.objects.filter(username__regex=pattern).exclude(DEMO_USERS)
    if taken.exists():
        sample = ", ".join(taken.values_list("username", flat=True)[:5])
        raise DemoConflict(
            f"Usernames used by demo grid workers already exist ({sample}); not building the demo."
        )


def _referenced(queryset) -> bool:
    """True if any row (of any model) still points at a row of ``queryset``."""
    subquery = queryset.values("pk")
    for relation in get_candidate_relations_to_delete(queryset.model._meta):
        related = relation.related_model._base_manager.filter(**{f"{relation.field.name}__in": subquery})
        if related.exists():
            return True
    return False


def _delete_rows(queryset) -> int:
    """Delete ``queryset``: in one statement when nothing points at its rows, else via the ORM.

    Deleting leaves first means demo rows are usually unreferenced by the time their turn comes,
    and a single DELETE is far faster than the ORM collector at a million rows. Rows that user
    records still point at go through the collector so ``on_delete`` rules apply.
    """
    if _referenced(queryset):
        return _delete_in_chunks(queryset)
    with transaction.atomic():
        return queryset.order_by()._raw_delete(queryset.db)


def _delete_in_chunks(queryset) -> int:
    model, total = queryset.model, 0
    while True:
        ids = list(queryset.order_by().values_list("pk", flat=True)[:CHUNK])
        if not ids:
            return total
        with transaction.atomic():
            model.objects.filter(pk__in=ids).delete()
        total += len(ids)


def delete_demo(write=None) -> dict[str, int]:
    """Delete all demo data in dependency order; return the number of rows deleted per model."""
    write = write or (lambda message: None)
    deleted: dict[str, int] = {}

    def note(label, count):
        if count:
            deleted[label] = deleted.get(label, 0) + count
            write(f"  deleted {count:,} {label}")

    for hook in reversed(demo_hooks()):
        if hook.delete is not None:
            hook.delete(write)
    through = Resident.tags.through
    with transaction.atomic():
        count, _ = through.objects.filter(resident__data_source=DEMO).delete()
    note(through._meta.label, count)
    for model in ORDER:
        note(model._meta.label, _delete_rows(model.objects.filter(data_source=DEMO)))
    with transaction.atomic():
        count, _ = Grid.members.through.objects.filter(grid__data_source=DEMO).delete()
    note(Grid.members.through._meta.label, count)
    for model in TREES:
        _delete_tree(model, note)
        if model is Grid:
            note(User._meta.label, _delete_in_chunks(User.objects.filter(DEMO_USERS)))
    note(Tag._meta.label, _delete_rows(Tag.objects.filter(data_source=DEMO)))
    _delete_tree(Department, note)
    return deleted


def _delete_tree(model, note) -> None:
    """Delete a tree's demo rows deepest first (parents are protected while they have children)."""
    rows = model.objects.filter(data_source=DEMO)
    depths = sorted(rows.order_by().values_list("depth", flat=True).distinct(), reverse=True)
    note(model._meta.label, sum(_delete_rows(rows.filter(depth=depth)) for depth in depths))
