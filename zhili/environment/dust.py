"""Dust analysis (R-5.1.5): graded, weighted factors → a score per monitor and per grid cell.

Each active ``DustFactor`` turns a measured value into a grade score 0–100 with its graded
thresholds (``parse_grades``); the dust score of a place is the weighted mean of the factor
scores, so "why" for a cell is exactly the list of (factor, value, score, weight, contribution).

Factor values at a place:

* ``road_distance`` — metres to the nearest arterial or secondary road (``places.Road``);
* ``muck_trucks`` — muck trucks whose latest GPS fix (last hour) lies within the factor radius;
* ``site_distance`` — metres to the nearest active construction site boundary (0 inside);
* ``wind_speed`` — latest ``wind_speed`` (m/s) of the nearest device that reports it;
* ``pm10`` — latest ``pm10`` of the nearest dust monitor or air station.

When no factor is configured, :data:`DEFAULT_FACTORS` apply (an admin edits them as records).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import shapely
from django.utils import timezone

from zhili.environment.models import DustFactor, DustFactorKind, parse_grades
from zhili.environment.spatial import LocalFrame

#: kind → (grades, weight, radius m). Closer roads/sites, more trucks, stronger wind and higher
#: PM10 score higher. Defaults for a town; every value is editable as a DustFactor record.
DEFAULT_FACTORS = {
    "road_distance": ("50:100; 150:70; 300:40; 600:15; *:0", 20, 500),
    "muck_trucks": ("0:0; 2:40; 5:70; *:100", 20, 500),
    "site_distance": ("0:100; 100:85; 300:60; 600:30; 1000:10; *:0", 30, 500),
    "wind_speed": ("1.5:20; 3.3:40; 5.4:70; *:100", 10, 500),
    "pm10": ("50:0; 120:40; 250:70; 350:90; *:100", 20, 500),
}
BUSY_ROAD_CLASSES = ("arterial", "secondary")


@dataclass
class FactorSpec:
    kind: str
    label: str
    grades: list
    weight: float
    radius_m: float

    def score(self, value: float | None) -> float | None:
        if value is None:
            return None
        for upper, score in self.grades:
            if upper is None or value <= upper:
                return score
        return 0.0  # pragma: no cover


def factor_specs() -> list[FactorSpec]:
    rows = list(DustFactor.objects.filter(active=True))
    labels = dict(DustFactorKind.choices)
    if rows:
        return [
            FactorSpec(r.kind, str(labels[r.kind]), parse_grades(r.grades), r.weight, r.radius_m)
            for r in rows
        ]
    return [
        FactorSpec(kind, str(labels[kind]), parse_grades(g), w, r)
        for kind, (g, w, r) in DEFAULT_FACTORS.items()
    ]


@dataclass
class Sources:
    """Everything the factors need, loaded once and projected to local metres."""

    frame: LocalFrame
    roads: object  # shapely geometry (metres) or None
    sites: object
    trucks: np.ndarray  # (n, 2) metres
    wind: list  # [(x, y, value)]
    pm10: list


def load_sources(frame: LocalFrame | None = None, now=None) -> Sources:
    from zhili.environment.models import ConstructionSite, SiteStatus, Vehicle
    from zhili.iot import store
    from zhili.iot.models import Device
    from zhili.places.models import Road

    now = now or timezone.now()
    roads = [
        r.geometry for r in Road.objects.filter(road_class__in=BUSY_ROAD_CLASSES) if r.geometry is not None
    ]
    sites = [
        s.geometry
        for s in ConstructionSite.objects.filter(status=SiteStatus.ACTIVE)
        if s.geometry is not None
    ]
    devices = {d.pk: d for d in Device.objects.exclude(geometry__isnull=True)}
    if frame is None:
        anchor = [d.geometry for d in devices.values()] + sites + roads
        frame = LocalFrame.around(shapely.GeometryCollection(anchor)) if anchor else LocalFrame(120.0, 30.0)
    hour_ago = int((now - dt.timedelta(hours=1)).timestamp() * 1000)

    def located(metric, types=None):
        out = []
        for (device_id, _m), point in store.latest(None, [metric]).items():
            device = devices.get(device_id)
            if device is None or (types and device.device_type not in types):
                continue
            x, y = frame.xy(device.geometry.x, device.geometry.y)
            out.append((float(x), float(y), point.value))
        return out

    truck_gps = list(
        Vehicle.objects.filter(kind="muck_truck", gps_device__isnull=False).values_list(
            "gps_device_id", flat=True
        )
    )
    trucks = []
    if truck_gps:
        latest = store.latest(truck_gps, ["lon", "lat"])
        for device_id in truck_gps:
            lon, lat = latest.get((device_id, "lon")), latest.get((device_id, "lat"))
            if lon and lat and min(lon.ts, lat.ts) >= hour_ago:
                trucks.append(frame.xy(lon.value, lat.value))
    return Sources(
        frame=frame,
        roads=shapely.union_all([frame.to_m(g) for g in roads]) if roads else None,
        sites=shapely.union_all([frame.to_m(g) for g in sites]) if sites else None,
        trucks=np.array(trucks, dtype=float).reshape(-1, 2),
        wind=located("wind_speed"),
        pm10=located("pm10", ("dust_monitor", "air_station")),
    )


def _nearest_value(items, x, y):
    if not items:
        return None
    best = min(items, key=lambda t: (t[0] - x) ** 2 + (t[1] - y) ** 2)
    return best[2]


def factor_values(sources: Sources, x: float, y: float, specs: list[FactorSpec]) -> dict[str, float | None]:
    point = shapely.Point(x, y)
    values: dict[str, float | None] = {}
    for spec in specs:
        if spec.kind == "road_distance":
            values[spec.kind] = None if sources.roads is None else round(sources.roads.distance(point), 1)
        elif spec.kind == "site_distance":
            values[spec.kind] = None if sources.sites is None else round(sources.sites.distance(point), 1)
        elif spec.kind == "muck_trucks":
            if len(sources.trucks):
                d2 = (sources.trucks[:, 0] - x) ** 2 + (sources.trucks[:, 1] - y) ** 2
                values[spec.kind] = float((d2 <= spec.radius_m**2).sum())
            else:
                values[spec.kind] = 0.0
        elif spec.kind == "wind_speed":
            values[spec.kind] = _nearest_value(sources.wind, x, y)
        elif spec.kind == "pm10":
            values[spec.kind] = _nearest_value(sources.pm10, x, y)
    return values


def explain(values: dict[str, float | None], specs: list[FactorSpec]) -> dict:
    """Score and "why": each factor's value, grade score, weight and share of the total."""
    parts = []
    weight_sum = 0.0
    total = 0.0
    for spec in specs:
        score = spec.score(values.get(spec.kind))
        if score is None:
            parts.append(
                {
                    "factor": spec.kind,
                    "label": spec.label,
                    "value": None,
                    "score": None,
                    "weight": spec.weight,
                    "contribution": 0.0,
                }
            )
            continue
        weight_sum += spec.weight
        total += spec.weight * score
        parts.append(
            {
                "factor": spec.kind,
                "label": spec.label,
                "value": values.get(spec.kind),
                "score": score,
                "weight": spec.weight,
                "contribution": spec.weight * score,
            }
        )
    overall = total / weight_sum if weight_sum else 0.0
    for part in parts:
        part["contribution"] = round(part["contribution"] / weight_sum, 2) if weight_sum else 0.0
    return {
        "score": round(overall, 1),
        "factors": parts,
        "missing": [p["factor"] for p in parts if p["score"] is None],
    }


def _grade_vector(spec: FactorSpec, values: np.ndarray) -> np.ndarray:
    out = np.full(values.shape, np.nan)
    assigned = np.isnan(values)
    for upper, score in spec.grades:
        hit = ~assigned & (True if upper is None else values <= upper)
        out[hit] = score
        assigned |= hit
    return out


def _nearest_vector(items, xs, ys) -> np.ndarray:
    if not items:
        return np.full(xs.shape, np.nan)
    arr = np.array(items, dtype=float)
    d2 = (xs[:, None] - arr[None, :, 0]) ** 2 + (ys[:, None] - arr[None, :, 1]) ** 2
    return arr[np.argmin(d2, axis=1), 2]


def scores_vector(sources: Sources, xs: np.ndarray, ys: np.ndarray, specs) -> np.ndarray:
    """Dust scores of many points at once (same result as :func:`explain` per point)."""
    points = shapely.points(xs, ys)
    total = np.zeros(xs.shape)
    weights = np.zeros(xs.shape)
    for spec in specs:
        if spec.kind == "road_distance":
            values = (
                np.full(xs.shape, np.nan)
                if sources.roads is None
                else np.round(shapely.distance(sources.roads, points), 1)
            )
        elif spec.kind == "site_distance":
            values = (
                np.full(xs.shape, np.nan)
                if sources.sites is None
                else np.round(shapely.distance(sources.sites, points), 1)
            )
        elif spec.kind == "muck_trucks":
            if len(sources.trucks):
                d2 = (xs[:, None] - sources.trucks[None, :, 0]) ** 2 + (
                    ys[:, None] - sources.trucks[None, :, 1]
                ) ** 2
                values = (d2 <= spec.radius_m**2).sum(axis=1).astype(float)
            else:
                values = np.zeros(xs.shape)
        elif spec.kind == "wind_speed":
            values = _nearest_vector(sources.wind, xs, ys)
        else:
            values = _nearest_vector(sources.pm10, xs, ys)
        grade = _grade_vector(spec, values)
        known = ~np.isnan(grade)
        total[known] += spec.weight * grade[known]
        weights[known] += spec.weight
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(weights > 0, total / weights, 0.0)


def score_at(lon: float, lat: float, sources: Sources | None = None, specs=None) -> dict:
    specs = specs or factor_specs()
    sources = sources or load_sources()
    x, y = sources.frame.xy(lon, lat)
    result = explain(factor_values(sources, float(x), float(y), specs), specs)
    result.update({"lon": lon, "lat": lat})
    return result


def monitor_scores(sources: Sources | None = None) -> list[dict]:
    """Score of every dust monitor and air station (R-5.1.5 per-monitor score)."""
    from zhili.iot.models import Device

    specs = factor_specs()
    sources = sources or load_sources()
    out = []
    for device in Device.objects.filter(device_type__in=("dust_monitor", "air_station")).exclude(
        geometry__isnull=True
    ):
        result = score_at(device.geometry.x, device.geometry.y, sources, specs)
        result.update({"device": device.pk, "code": device.code, "name": device.name})
        out.append(result)
    out.sort(key=lambda r: -r["score"])
    return out


def surface(bounds=None, cell_m: float = 200, level: float = 60, max_cells: int = 10_000) -> dict:
    """Scores on a regular grid over ``bounds`` (lon/lat box; default: the sources' extent + 500 m).

    Returns the cells (centre, score) and the affected areas: the union of the cells scoring at
    least ``level``, as GeoJSON polygons in lon/lat.
    """
    specs = factor_specs()
    sources = load_sources()
    frame = sources.frame
    if bounds is None:
        parts = [g for g in (sources.roads, sources.sites) if g is not None]
        parts += [shapely.Point(x, y) for x, y, _v in sources.pm10]
        if not parts:
            return {
                "cells": [],
                "areas": {"type": "FeatureCollection", "features": []},
                "cell_m": cell_m,
                "level": level,
            }
        minx, miny, maxx, maxy = shapely.GeometryCollection(parts).bounds
        minx, miny, maxx, maxy = minx - 500, miny - 500, maxx + 500, maxy + 500
    else:
        (minx, miny), (maxx, maxy) = frame.xy(bounds[0], bounds[1]), frame.xy(bounds[2], bounds[3])
    nx = max(1, int(np.ceil((maxx - minx) / cell_m)))
    ny = max(1, int(np.ceil((maxy - miny) / cell_m)))
    if nx * ny > max_cells:
        scale = np.sqrt(nx * ny / max_cells)
        cell_m *= scale
        nx, ny = max(1, int(np.ceil((maxx - minx) / cell_m))), max(1, int(np.ceil((maxy - miny) / cell_m)))
    jj, ii = np.mgrid[0:ny, 0:nx]
    xs = (minx + (ii.ravel() + 0.5) * cell_m).astype(float)
    ys = (miny + (jj.ravel() + 0.5) * cell_m).astype(float)
    scores = scores_vector(sources, xs, ys, specs)
    lons = xs / frame.kx + frame.lon0
    lats = ys / frame.ky + frame.lat0
    cells = [
        [round(float(a), 6), round(float(b), 6), round(float(c), 1)]
        for a, b, c in zip(lons, lats, scores, strict=True)
    ]
    hot = [
        shapely.box(x - cell_m / 2, y - cell_m / 2, x + cell_m / 2, y + cell_m / 2)
        for x, y, sc in zip(xs, ys, scores, strict=True)
        if sc >= level
    ]
    features = []
    if hot:
        merged = shapely.union_all(hot)
        polygons = list(getattr(merged, "geoms", [merged]))
        for poly in polygons:
            geo = frame.to_lonlat(poly)
            features.append(
                {
                    "type": "Feature",
                    "geometry": shapely.geometry.mapping(geo),
                    "properties": {"level": level, "area_m2": round(poly.area)},
                }
            )
    half = cell_m / 2
    return {
        "cells": cells,
        "cell_m": round(cell_m, 1),
        "half_deg": [half / frame.kx, half / frame.ky],
        "level": level,
        "areas": {"type": "FeatureCollection", "features": features},
    }
