"""Data scope of cases: a department sees its cases, a grid worker those of its grids.

Users attached to a department see the cases dispatched to it or its sub-departments; grid
leaders and members see the cases of their grids (and the grids below); everyone sees the
cases assigned to or reported by them. Town-level staff (no department, no grid) and the
dispatch centre (dispatch permission at the root department) see all cases they may view.
The security work's role scopes are ANDed with this on the same seam.
"""

from django.db.models import Q

from zhili.core.permissions import add_scope_provider


def case_scope(user, model, action):
    from zhili.cases.models import Case, FollowUpVisit

    if model not in (Case, FollowUpVisit) or user.is_superuser:
        return None
    prefix = "" if model is Case else "case__"
    department = getattr(user, "department", None)
    grid_paths = _grid_paths(user)
    if department is None and not grid_paths:
        return None
    if department is not None and department.depth == 0 and user.has_perm("cases.dispatch_case"):
        return None
    condition = Q(**{f"{prefix}assignee": user}) | Q(**{f"{prefix}reporter": user})
    if model is FollowUpVisit:
        condition |= Q(assignee=user)
    if department is not None:
        condition |= Q(**{f"{prefix}department_id__in": subtree_ids(department)})
    for path in grid_paths:
        condition |= Q(**{f"{prefix}grid__path__startswith": path})
    return condition


def subtree_ids(department) -> list[int]:
    """Ids of a department and the ones below it (a few dozen: an id list beats a join)."""
    from zhili.orgs.models import Department

    return list(Department.objects.filter(path__startswith=department.path).values_list("pk", flat=True))


def _grid_paths(user) -> list[str]:
    from zhili.places.models import Grid

    cached = getattr(user, "_case_grid_paths", None)
    if cached is None:
        cached = list(
            Grid.objects.filter(Q(leader=user) | Q(members=user)).values_list("path", flat=True).distinct()
        )
        user._case_grid_paths = cached
    return cached


add_scope_provider(case_scope)
