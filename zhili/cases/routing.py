"""Routing: which department (and person) a case should go to, from its category and grid.

Rules are few (tens to hundreds) and read on every intake, so matching happens in Python over
the active rules: a rule matches when its category is the case's category or an ancestor, and
its grid is the case's grid or an ancestor. The most specific rule wins (deeper category, then
deeper grid), then the higher priority. Without a matching rule the category's (or its nearest
ancestor's) default department is suggested.
"""

from dataclasses import dataclass

from shapely.geometry import Point

from zhili.core.fields import parse_geometry


@dataclass
class Route:
    department: object | None
    assignee: object | None = None
    rule: object | None = None


def grid_for_point(lon: float, lat: float):
    """Return the lowest-level grid whose boundary contains the point, or None."""
    from zhili.places.models import Grid

    candidates = Grid.objects.filter(
        bbox_minx__lte=lon, bbox_maxx__gte=lon, bbox_miny__lte=lat, bbox_maxy__gte=lat
    ).order_by("-level", "-depth")
    point = Point(lon, lat)
    for grid in candidates:
        shape = parse_geometry(grid.geometry)
        if shape is not None and shape.covers(point):
            return grid
    return None


def _chain_paths(path: str) -> set[str]:
    """Return the tree paths of a node and its ancestors: ``/1/5/9/`` → {/1/, /1/5/, /1/5/9/}."""
    parts = [p for p in path.strip("/").split("/") if p]
    return {"/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))}


def route(category, grid=None) -> Route:
    """Return the suggested department/handler for a case of ``category`` in ``grid``."""
    from zhili.cases.models import RoutingRule

    category_paths = _chain_paths(category.path) if category is not None else set()
    grid_paths = _chain_paths(grid.path) if grid is not None and grid.path else set()
    best, best_key = None, None
    rules = list(
        RoutingRule.objects.filter(is_active=True).select_related("category", "department", "assignee")
    )
    grid_nodes = {}
    grid_ids = {rule.grid_id for rule in rules if rule.grid_id}
    if grid_ids:
        from zhili.places.models import Grid

        grid_nodes = {
            pk: (path, depth)
            for pk, path, depth in Grid.objects.filter(pk__in=grid_ids).values_list("pk", "path", "depth")
        }
    for rule in rules:
        if rule.category_id and rule.category.path not in category_paths:
            continue
        if rule.grid_id and grid_nodes.get(rule.grid_id, ("",))[0] not in grid_paths:
            continue
        key = (
            rule.category.depth + 1 if rule.category_id else 0,
            grid_nodes[rule.grid_id][1] + 1 if rule.grid_id else 0,
            rule.priority,
            -rule.pk,
        )
        if best_key is None or key > best_key:
            best, best_key = rule, key
    if best is not None:
        assignee = best.assignee
        if best.dispatch_to_grid_worker and grid is not None and grid.leader_id:
            assignee = grid.leader
        return Route(best.department, assignee, best)
    node = category
    while node is not None:
        if node.default_department_id:
            return Route(node.default_department)
        node = node.parent
    return Route(None)
