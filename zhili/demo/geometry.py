"""Geometry of the demo town, planned in metres and stored in CGCS2000 lon/lat.

Everything is laid out in a local metric frame centred on the town (x east, y north) and mapped
to lon/lat by one affine transform. An affine map keeps validity and containment, so a
building planned inside its grid in metres is still inside it in degrees; building coordinates
are then rounded to 1e-7° (about 1 cm), and planning keeps a margin of metres to absorb that.
"""

import math
import random
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import LineString, MultiLineString, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.prepared import prep

#: Town centre (CGCS2000 lon/lat), near 余杭 west of Hangzhou.
LON0, LAT0 = 119.96, 30.27
M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(LAT0))
#: Size of one village cell in metres (east-west, north-south).
CELL_W, CELL_H = 1250.0, 1000.0
#: Half the width of a lane: buildings start beyond it.
LANE_HALF_WIDTH = 3.0
#: Distance kept between a building and its grid boundary (absorbs coordinate rounding).
GRID_MARGIN = 2.0


def _affine(coords: np.ndarray) -> np.ndarray:
    out = np.empty_like(coords)
    out[:, 0] = LON0 + coords[:, 0] / M_PER_DEG_LON
    out[:, 1] = LAT0 + coords[:, 1] / M_PER_DEG_LAT
    return out


def _affine_rounded(coords: np.ndarray) -> np.ndarray:
    return np.round(_affine(coords), 7)


def to_lonlat(geom: BaseGeometry, exact: bool = False) -> BaseGeometry:
    """Map a metric-frame geometry to lon/lat.

    Small features (buildings, points, roads) are rounded to 1e-7° (about 1 cm) to keep the
    stored GeoJSON short. Boundaries that tile the town (``exact=True``: divisions, grids) keep
    full precision: rounding a vertex that lies on a neighbour's edge would move it a few
    millimetres off that edge and make neighbours overlap by slivers.
    """
    return shapely.transform(geom, _affine if exact else _affine_rounded)


def polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Return the polygonal part of an intersection result (drop stray lines and points)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type == "Polygon" and g.area > 1]
    if not parts:
        return Polygon()
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def longest_line(geom: BaseGeometry) -> LineString | None:
    """Return the longest LineString of an intersection result, or None."""
    if geom.is_empty:
        return None
    if geom.geom_type == "LineString":
        return geom
    lines = [g for g in getattr(geom, "geoms", []) if g.geom_type == "LineString"]
    return max(lines, key=lambda g: g.length) if lines else None


@dataclass
class TownLayout:
    """Village cells on a jittered lattice; ``cells[i]`` is village i (row-major from the south-west).

    ``communities`` lists the cells that are communities, nearest the town centre first.
    """

    cols: int
    rows: int
    cells: list[Polygon]
    town: Polygon
    communities: list[int] = field(default_factory=list)  # nearest the centre first


def town_layout(n_villages: int, n_communities: int, rng: random.Random) -> TownLayout:
    """Divide the town into ``n_villages`` cells that share their (jittered) edges exactly.

    Lattice corners and edge midpoints inside the town are jittered; each is computed once and
    reused by both neighbouring cells, so cells never overlap or leave gaps. The communities are
    the cells nearest the centre (the town seat).
    """
    cols = max(1, math.ceil(math.sqrt(2 * n_villages)))
    rows = math.ceil(n_villages / cols)
    x0, y0 = -cols * CELL_W / 2, -rows * CELL_H / 2

    def corner(i, j):
        x, y = x0 + i * CELL_W, y0 + j * CELL_H
        if 0 < i < cols:
            x += jitter_x[i][j]
        if 0 < j < rows:
            y += jitter_y[i][j]
        return (x, y)

    jitter_x = [[rng.uniform(-0.1, 0.1) * CELL_W for _ in range(rows + 1)] for _ in range(cols + 1)]
    jitter_y = [[rng.uniform(-0.1, 0.1) * CELL_H for _ in range(rows + 1)] for _ in range(cols + 1)]
    bend_h = [[rng.uniform(-0.06, 0.06) * CELL_H for _ in range(rows + 1)] for _ in range(cols)]
    bend_v = [[rng.uniform(-0.06, 0.06) * CELL_W for _ in range(rows)] for _ in range(cols + 1)]

    def mid_h(i, j):  # midpoint of the horizontal edge from corner (i, j) to (i + 1, j)
        (ax, ay), (bx, by) = corner(i, j), corner(i + 1, j)
        bend = bend_h[i][j] if 0 < j < rows else 0.0
        return ((ax + bx) / 2, (ay + by) / 2 + bend)

    def mid_v(i, j):  # midpoint of the vertical edge from corner (i, j) to (i, j + 1)
        (ax, ay), (bx, by) = corner(i, j), corner(i, j + 1)
        bend = bend_v[i][j] if 0 < i < cols else 0.0
        return ((ax + bx) / 2 + bend, (ay + by) / 2)

    cells = []
    for v in range(n_villages):
        i, j = v % cols, v // cols
        ring = [
            corner(i, j),
            mid_h(i, j),
            corner(i + 1, j),
            mid_v(i + 1, j),
            corner(i + 1, j + 1),
            mid_h(i, j + 1),
            corner(i, j + 1),
            mid_v(i, j),
        ]
        cells.append(Polygon(ring))
    town = shapely.union_all(cells)
    if town.geom_type != "Polygon":  # cannot happen for contiguous cells; keep the outline simple
        town = town.convex_hull
    by_distance = sorted(range(n_villages), key=lambda v: (cells[v].centroid.distance(_ORIGIN), v))
    return TownLayout(cols, rows, cells, town, by_distance[:n_communities])


_ORIGIN = shapely.Point(0, 0)


def split_village(cell: Polygon, rng: random.Random) -> list[BaseGeometry]:
    """Split a village cell into five basic grids: three in the north half, two in the south."""
    minx, miny, maxx, maxy = cell.bounds
    w, h = maxx - minx, maxy - miny
    big = 2 * max(w, h)
    ymid = miny + h * rng.uniform(0.46, 0.54)
    xa = minx + w * rng.uniform(0.31, 0.36)
    xb = minx + w * rng.uniform(0.64, 0.69)
    xc = minx + w * rng.uniform(0.46, 0.54)
    cutters = [
        box(minx - big, ymid, xa, maxy + big),
        box(xa, ymid, xb, maxy + big),
        box(xb, ymid, maxx + big, maxy + big),
        box(minx - big, miny - big, xc, ymid),
        box(xc, miny - big, maxx + big, ymid),
    ]
    return [polygonal(cell.intersection(c)) for c in cutters]


def wiggly_line(start, end, rng: random.Random, amplitude: float, steps: int = 10) -> LineString:
    """A road centre line from ``start`` to ``end`` with a smooth sideways wave."""
    (ax, ay), (bx, by) = start, end
    length = math.hypot(bx - ax, by - ay)
    nx, ny = -(by - ay) / length, (bx - ax) / length
    phase, waves = rng.uniform(0, 2 * math.pi), rng.uniform(0.6, 1.6)
    points = []
    for k in range(steps + 1):
        t = k / steps
        off = amplitude * math.sin(phase + waves * 2 * math.pi * t) * math.sin(math.pi * t)
        points.append((ax + (bx - ax) * t + nx * off, ay + (by - ay) * t + ny * off))
    return LineString(points)


def arterial_lines(layout: TownLayout, rng: random.Random) -> list[tuple[str, BaseGeometry]]:
    """East-west and north-south through roads about every 2.5–3 km, clipped to the town."""
    minx, miny, maxx, maxy = layout.town.bounds
    roads = []
    n_ew = max(1, round((maxy - miny) / 2500))
    for k in range(n_ew):
        y = miny + (k + 0.5) * (maxy - miny) / n_ew + 0.17 * CELL_H
        line = wiggly_line((minx - 50, y), (maxx + 50, y), rng, amplitude=80, steps=24)
        roads.append(("ew", line))
    n_ns = max(1, round((maxx - minx) / 3000))
    for k in range(n_ns):
        x = minx + (k + 0.5) * (maxx - minx) / n_ns + 0.13 * CELL_W
        line = wiggly_line((x, miny - 50), (x, maxy + 50), rng, amplitude=90, steps=24)
        roads.append(("ns", line))
    clipped = []
    for direction, line in roads:
        part = line.intersection(layout.town)
        if part.geom_type in ("LineString", "MultiLineString") and not part.is_empty:
            clipped.append((direction, part))
        elif not part.is_empty:
            lines = [g for g in part.geoms if g.geom_type == "LineString"]
            if lines:
                clipped.append((direction, MultiLineString(lines)))
    return clipped


def main_road(cell: Polygon, rng: random.Random) -> LineString | None:
    """The village's own road, west to east through its middle."""
    minx, miny, maxx, maxy = cell.bounds
    cy = (miny + maxy) / 2 + rng.uniform(-0.12, 0.12) * (maxy - miny)
    line = wiggly_line((minx - 10, cy), (maxx + 10, cy), rng, amplitude=40, steps=12)
    return longest_line(line.intersection(cell.buffer(-4)))


@dataclass
class BuildingSpec:
    """Size of a footprint to place: width along the lane, depth away from it, setback, gap after."""

    width: float
    depth: float
    setback: float
    gap: float


@dataclass
class Placement:
    spec_index: int
    footprint: Polygon
    lane: int | None  # index into the returned lanes, None if placed off-lane
    side: int  # +1 left of the lane direction, -1 right, 0 off-lane
    position: float  # metres from the start of the lane


def _rect_along(p0, direction, normal, t, spec: BuildingSpec, side: int) -> Polygon:
    (x0, y0), (dx, dy), (nx, ny) = p0, direction, normal
    near = LANE_HALF_WIDTH + spec.setback
    far = near + spec.depth
    pts = []
    for along, across in ((t, near), (t + spec.width, near), (t + spec.width, far), (t, far)):
        pts.append((x0 + dx * along + nx * side * across, y0 + dy * along + ny * side * across))
    if side < 0:
        pts.reverse()
    return Polygon(pts)


def place_buildings(
    grid: BaseGeometry,
    specs: list[BuildingSpec],
    rng: random.Random,
    spacing: float,
    reserved: BaseGeometry | None = None,
    fill: float = 0.55,
) -> tuple[list[LineString], list[Placement]]:
    """Place footprints along parallel lanes inside ``grid``; return the lanes used and placements.

    Lanes run at a random angle through the grid, ``spacing`` metres apart. Only as many lanes
    as the buildings need are used, middle first, so that buildings line about ``fill`` of
    their length (a settlement with fields around it); gaps are stretched to spread the
    buildings along them. Footprints stay inside the grid (with a margin), off ``reserved``
    land (through roads) and clear of each other. A second pass fills holes with the plain
    gaps, then other lanes are tried; whatever still does not fit is scattered at random inside
    the grid, so the requested count is always met.
    """
    inner = grid.buffer(-GRID_MARGIN)
    inner_p = prep(inner)
    lane_area = grid.buffer(-8)
    reserved_p = prep(reserved) if reserved is not None and not reserved.is_empty else None
    angle = math.radians(rng.uniform(-14, 14))
    ux, uy = math.cos(angle), math.sin(angle)
    nx, ny = -uy, ux
    c = grid.centroid
    minx, miny, maxx, maxy = grid.bounds
    reach = math.hypot(maxx - minx, maxy - miny)
    placed: list[Polygon] = []
    placements: list[Placement] = []

    def fits(fp: Polygon) -> bool:
        if not inner_p.contains(fp):
            return False
        if reserved_p is not None and reserved_p.intersects(fp):
            return False
        return not (placed and shapely.intersects(np.asarray(placed, dtype=object), fp).any())

    candidates: list[LineString] = []
    offsets = [0.0]
    for k in range(1, int(reach / spacing) + 2):
        offsets += [k * spacing, -k * spacing]
    for off in offsets:
        ox, oy = c.x + nx * off, c.y + ny * off
        line = LineString([(ox - ux * reach, oy - uy * reach), (ox + ux * reach, oy + uy * reach)])
        lane = longest_line(line.intersection(lane_area))
        if lane is not None and lane.length >= 40:
            candidates.append(lane)
    demand = sum(s.width + s.gap for s in specs)
    n_lanes, capacity = 0, 0.0
    while n_lanes < len(candidates) and capacity * fill < demand:
        capacity += 2 * (candidates[n_lanes].length - 4)
        n_lanes += 1
    widths, gaps = sum(s.width for s in specs), sum(s.gap for s in specs)
    stretch = max(1.0, (capacity * fill - widths) / gaps) if gaps else 1.0

    todo = list(range(len(specs)))
    for lanes_in_pass, factor in (
        (range(n_lanes), stretch),
        (range(n_lanes), 1.0),
        (range(n_lanes, len(candidates)), 1.0),
    ):
        for lane_index in lanes_in_pass:
            lane = candidates[lane_index]
            (ax, ay), (bx, by) = lane.coords[0], lane.coords[-1]
            length = lane.length
            direction = ((bx - ax) / length, (by - ay) / length)
            normal = (-direction[1], direction[0])
            for side in (1, -1):
                t = rng.uniform(2, 12)
                while todo and t + specs[todo[0]].width < length - 2:
                    spec = specs[todo[0]]
                    fp = _rect_along((ax, ay), direction, normal, t, spec, side)
                    if fits(fp):
                        placed.append(fp)
                        placements.append(Placement(todo.pop(0), fp, lane_index, side, t))
                        t += spec.width + spec.gap * factor
                    else:
                        t += 4
    # Off-lane fallback: random spots, then (last resort) allow touching neighbours.
    attempts = 0
    while todo:
        attempts += 1
        spec = specs[todo[0]]
        px, py = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        fp = affinity.rotate(
            box(px, py, px + spec.width, py + spec.depth), math.degrees(angle), origin=(px, py)
        )
        ok = fits(fp) if attempts < 400 else inner_p.contains(fp)
        if ok:
            placed.append(fp)
            placements.append(Placement(todo.pop(0), fp, None, 0, 0.0))
            attempts = 0
        elif attempts > 5000:
            raise RuntimeError("Could not place a building inside its grid; the grid is too small.")
    # Number the lanes that got buildings 0, 1, … and order placements along them.
    used = sorted({p.lane for p in placements if p.lane is not None})
    renumber = {old: new for new, old in enumerate(used)}
    for p in placements:
        p.lane = renumber.get(p.lane)
    placements.sort(key=lambda p: (p.lane is None, p.lane or 0, -p.side, p.position))
    return [candidates[k] for k in used], placements


def compound_outline(grid: BaseGeometry, footprints: list[Polygon]) -> BaseGeometry:
    """Outline of a residential compound (小区) around its buildings, kept inside the grid."""
    hull = shapely.union_all(footprints).convex_hull.buffer(12, join_style="mitre")
    return polygonal(hull.intersection(grid.buffer(-GRID_MARGIN / 2)))
