"""Data scope of roles, plugged into ``zhili.core.permissions`` as a scope provider (R-10.3-rbac).

For an action on a model, the roles that grant that action contribute their scope and the
scopes OR together: all; own unit and below; own unit; self (the records the user wrote plus
the rows of the grids he leads or belongs to, and their sub-grids); custom units/grids (with
their subtrees). For grid-bound models "self" means the user's grids when he has any, else
the records he wrote. Superusers and permissions granted directly (not through a role) see all.
"""

from django.apps import apps
from django.conf import settings
from django.db.models import ForeignKey, Q

from zhili.core.permissions import declared_scope, perm_name
from zhili.system.backends import cached_entry, direct_permissions, role_grants

NOTHING = Q(pk__in=[])
_auto_paths: dict = {}


def scope_paths(model) -> dict:
    """Lookup paths (unit, grid, owner) and the reference flag of ``model``."""
    declared = declared_scope(model)
    if declared is not None:
        return declared
    if model in _auto_paths:
        return _auto_paths[model]
    department = apps.get_model(settings.ZHILI.get("UNIT_MODEL", "orgs.Department"))
    grid_model = apps.get_model("places", "Grid")
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    fields = {f.name: f for f in model._meta.concrete_fields}
    unit = grid = owner = None
    if model is department:
        unit = "pk"
    elif "owner_unit" in fields:
        unit = "owner_unit"
    elif isinstance(fields.get("department"), ForeignKey):
        unit = "department"
    if model is grid_model:
        grid = "pk"
    else:
        grid = _grid_path(model, grid_model, fields)
    if model is user_model:
        owner = "pk"
    elif "created_by" in fields:
        owner = "created_by"
    paths = {"unit": unit, "grid": grid, "owner": owner, "reference": False}
    _auto_paths[model] = paths
    return paths


def _grid_path(model, grid_model, fields) -> str | None:
    direct = [f for f in fields.values() if isinstance(f, ForeignKey) and f.related_model is grid_model]
    if direct:
        named = [f for f in direct if f.name == "grid"]
        return (named or direct)[0].name
    hops = sorted(
        (
            f
            for f in fields.values()
            if isinstance(f, ForeignKey) and f.related_model not in (model, grid_model)
        ),
        key=lambda f: f.null,  # required relations first: they always lead somewhere
    )
    for fk in hops:
        for inner in fk.related_model._meta.concrete_fields:
            if isinstance(inner, ForeignKey) and inner.related_model is grid_model and inner.name == "grid":
                return f"{fk.name}__{inner.name}"
    return None


def _user_context(user) -> dict:
    """Department subtree and grid subtree ids of ``user`` (cached on the user object)."""
    cached = getattr(user, "_zhili_scope_ctx", None)
    if cached is not None:
        return cached
    entry = cached_entry(user)
    if "ctx" in entry:
        user._zhili_scope_ctx = entry["ctx"]
        return entry["ctx"]
    department = apps.get_model(settings.ZHILI.get("UNIT_MODEL", "orgs.Department"))
    grid_model = apps.get_model("places", "Grid")
    ctx = {"unit": None, "unit_tree": [], "grid_tree": [], "custom_units": {}, "custom_grids": {}}
    if user.department_id:
        ctx["unit"] = user.department_id
        path = department.objects.filter(pk=user.department_id).values_list("path", flat=True).first()
        if path:
            ctx["unit_tree"] = list(
                department.objects.filter(path__startswith=path).values_list("pk", flat=True)
            )
        else:
            ctx["unit_tree"] = [user.department_id]
    paths = list(
        grid_model.objects.filter(Q(leader=user) | Q(members=user)).values_list("path", flat=True).distinct()
    )
    ctx["grid_tree"] = _subtree_ids(grid_model, paths)
    entry["ctx"] = ctx
    user._zhili_scope_ctx = ctx
    return ctx


def _subtree_ids(model, paths) -> list[int]:
    if not paths:
        return []
    condition = Q()
    for path in paths:
        condition |= Q(path__startswith=path)
    return list(model.objects.filter(condition).values_list("pk", flat=True))


def _custom_trees(grant) -> tuple[list[int], list[int]]:
    department = apps.get_model(settings.ZHILI.get("UNIT_MODEL", "orgs.Department"))
    grid_model = apps.get_model("places", "Grid")
    units = _subtree_ids(
        department, department.objects.filter(pk__in=grant.custom_units).values_list("path", flat=True)
    )
    grids = _subtree_ids(
        grid_model, grid_model.objects.filter(pk__in=grant.custom_grids).values_list("path", flat=True)
    )
    return units, grids


def _in(path: str | None, ids) -> Q:
    if path is None:
        return NOTHING
    return Q(**{f"{path}__in": list(ids)})


def grant_condition(grant, user, paths) -> Q | None:
    """The rows one role's scope covers; None means every row."""
    scope = grant.data_scope
    if scope == "all":
        return None
    ctx = _user_context(user)
    if scope == "unit_and_below":
        return _in(paths["unit"], ctx["unit_tree"]) if ctx["unit"] else NOTHING
    if scope == "unit":
        return _in(paths["unit"], [ctx["unit"]]) if ctx["unit"] else NOTHING
    if scope == "self":
        # Grid-bound rows (residents, households, buildings…): the grids the user leads or
        # belongs to, and their sub-grids; a grid worker cannot park a record in another grid.
        if paths["grid"] and ctx["grid_tree"]:
            return _in(paths["grid"], ctx["grid_tree"])
        if paths["owner"]:
            return Q(**{paths["owner"]: user.pk})
        return NOTHING
    if scope == "custom":
        units, grids = _custom_trees(grant)
        condition = NOTHING
        if units and paths["unit"]:
            condition |= _in(paths["unit"], units)
        if grids and paths["grid"]:
            condition |= _in(paths["grid"], grids)
        return condition
    return NOTHING


def role_scope(user, model, action: str) -> Q | None:
    """Scope provider: the OR of the scopes of the roles granting ``action`` on ``model``."""
    if user is None or not getattr(user, "is_authenticated", False):
        return NOTHING
    if user.is_superuser:
        return None
    cache = user.__dict__.setdefault("_zhili_scope_cache", {})
    key = (model, action)
    if key in cache:
        return cache[key]
    cache[key] = result = _role_scope(user, model, action)
    return result


def _role_scope(user, model, action):
    paths = scope_paths(model)
    if paths.get("reference") and action == "view":
        return None
    if _is_lookup(model) and action == "view":
        return None
    perm = perm_name(model, action)
    if perm in direct_permissions(user):
        return None  # granted directly (not through a role): whole table, as before roles existed
    grants = [g for g in role_grants(user) if perm in g.permissions]
    if not grants:
        return NOTHING
    if not (paths["unit"] or paths["grid"] or paths["owner"]):
        return None  # nothing to scope by
    condition = None
    for grant in grants:
        part = grant_condition(grant, user, paths)
        if part is None:
            return None
        condition = part if condition is None else condition | part
    return condition


def _is_lookup(model) -> bool:
    from zhili.core.registry import registry

    return model in registry and registry.get(model).lookup
