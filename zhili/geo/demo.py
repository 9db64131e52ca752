"""Demo water bodies of the demo town (a river and ponds), so the base map shows water.

Placed deterministically in the town boundary, away from buildings and roads, and labelled
``data_source="demo"``.
"""

import random

import numpy as np
import shapely
from django.db import transaction
from shapely.geometry import LineString

from zhili.core import spatial

POND_NAMES = ("荷花塘", "月牙塘", "鱼塘", "老井塘", "柳荫塘", "清水塘", "石桥塘", "双塘")


def build_water_demo(town, write) -> None:
    from zhili.places.models import Building, Division, Road, WaterBody

    boundary = town.division.geometry
    if boundary is None:
        return
    rng = random.Random(f"{town.spec.seed}-water")
    centre = boundary.centroid
    lon, lat = centre.x, centre.y
    metric_boundary = spatial.to_metres(boundary, lon, lat)
    taken = []
    for model in (Building, Road):
        texts = model.objects.exclude(geometry__isnull=True).values_list("geometry", flat=True)
        geoms = [g for g in texts if g is not None]
        if geoms:
            taken.append(spatial.to_metres(np.array(geoms, dtype=object), lon, lat))
    obstacles = shapely.union_all(np.concatenate(taken)).buffer(8) if taken else shapely.Polygon()
    minx, miny, maxx, maxy = metric_boundary.bounds
    # A river crossing the town from west to east, meandering, 25 m wide, cut around buildings.
    xs = np.linspace(minx - 50, maxx + 50, 40)
    ys = miny + (maxy - miny) * (0.3 + 0.08 * np.sin(np.linspace(0, 3 * np.pi, 40) + rng.random()))
    river = (
        LineString(np.column_stack([xs, ys])).buffer(12.5).intersection(metric_boundary).difference(obstacles)
    )
    rows = []
    if not river.is_empty:
        rows.append(("W-RIVER-1", "清溪河", WaterBody.Kind.RIVER, river))
    villages = list(Division.objects.filter(path__startswith=town.division.path).exclude(pk=town.division.pk))
    for n in range(min(8, max(3, len(villages)))):
        for _try in range(40):
            x = rng.uniform(minx, maxx)
            y = rng.uniform(miny, maxy)
            radius = rng.uniform(15, 35)
            pond = shapely.Point(x, y).buffer(radius, 12)
            if metric_boundary.contains(pond) and not pond.intersects(obstacles):
                rows.append((f"W-POND-{n + 1}", POND_NAMES[n % len(POND_NAMES)], WaterBody.Kind.POND, pond))
                obstacles = obstacles.union(pond.buffer(10))
                break
    with transaction.atomic():
        objs = []
        for code, name, kind, geom in rows:
            outline = shapely.make_valid(spatial.from_metres(geom, lon, lat))
            if outline.geom_type == "GeometryCollection":
                outline = shapely.union_all(
                    [g for g in outline.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
                )
            point = outline.representative_point()
            division = next(
                (v for v in villages if v.geometry is not None and v.geometry.contains(point)), town.division
            )
            objs.append(
                WaterBody(
                    code=code, name=name, kind=kind, division=division, geometry=outline, data_source="demo"
                )
            )
        town.bulk(WaterBody, objs)
    write(f"    {len(objs)} water bodies")


def delete_water_demo(write) -> None:
    from zhili.places.models import WaterBody

    deleted, _by_model = WaterBody.objects.filter(data_source="demo").delete()
    write(f"    {deleted} water bodies")
