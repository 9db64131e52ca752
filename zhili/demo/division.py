"""One village or community: committee, division, grids and grid workers, roads, buildings,
dwellings and business units. Its households and residents are made by ``residents``.

Each division is planned in memory (metric frame, its own seeded random generator) and written
in one transaction, so memory stays bounded by one division whatever the scale.
"""

import random
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from shapely.geometry import Point, Polygon

from zhili.accounts.models import User
from zhili.core.geo import length_m
from zhili.demo import buildings as programme
from zhili.demo import catalog, names, residents
from zhili.demo import geometry as geo
from zhili.demo.context import DEMO, Town
from zhili.orgs.models import BusinessUnit, Department
from zhili.places.models import Building, Division, Grid, House, Road

#: Metres between parallel lanes, and the share of their length lined with buildings
#: (village, community).
LANE_SPACING = {False: 55.0, True: 75.0}
LANE_FILL = {False: 0.55, True: 0.75}


@dataclass
class Dwelling:
    """A house row with what the household assignment needs to know about it."""

    row: House
    building: Building
    kind: str  # "owner" or "rent"
    address: str


@dataclass
class Site:
    """One village or community being built."""

    index: int
    community: bool
    name: str  # "桃源村", "文昌社区"
    root: str  # "桃源", "文昌"
    code: str  # 12-digit division code
    cell: Polygon  # metric frame
    department: Department | None = None
    division: Division | None = None

    @property
    def tag(self) -> str:
        """Two or three digits used in usernames (grid0101 = village 1, grid 1)."""
        return f"{self.index + 1:02d}"


def build_division(town: Town, index: int) -> dict[str, int]:
    """Plan and write one village or community; return its name and household/resident counts."""
    rng = random.Random(f"{town.spec.seed}:division:{index}")
    community = index in town.layout.communities
    root = town.names[index]
    site = Site(
        index=index,
        community=community,
        name=root + ("社区" if community else "村"),
        root=root,
        code=catalog.COUNTY_CODE + catalog.TOWN_DIGITS + f"{index + 1:03d}",
        cell=town.layout.cells[index],
    )
    targets = town.spec.per_division(community)
    grid_shapes = geo.split_village(site.cell, rng)
    main = geo.main_road(site.cell, rng)
    reserved = town.arterial_area.intersection(site.cell.buffer(30))
    if main is not None:
        reserved = reserved.union(main.buffer(6))
    plans_by_grid = _programme(rng, site, targets, town.public_buildings.get(index, []))
    spacing, fill = LANE_SPACING[community], LANE_FILL[community]
    placed = [
        geo.place_buildings(shape, [p.spec for p in plans], rng, spacing, reserved, fill)
        for shape, plans in zip(grid_shapes, plans_by_grid, strict=True)
    ]
    with transaction.atomic():
        _write_committee(town, rng, site)
        grids, workers = _write_grids(town, rng, site, grid_shapes)
        roads = _write_roads(town, site, main, [lanes for lanes, _ in placed])
        rows = _write_buildings(town, site, grids, plans_by_grid, placed, roads)
        _write_micro_grids(town, site, grid_shapes, grids, workers, rows)
        dwellings = _dwellings(site, rows)
        assignments = residents.assign_households(rng, dwellings, targets["households"])
        town.bulk(House, [d.row for d in dwellings])
        employers = _write_businesses(town, rng, site, rows, targets["businesses"])
        people = residents.write_people(town, rng, site, assignments, targets["residents"], employers)
    return people


def _programme(rng, site: Site, targets: dict, town_publics: list[str]) -> list[list]:
    """Building plans of the division, dealt out to its five basic grids."""
    if site.community:
        publics = [*town_publics, f"{site.name}党群服务中心"]
        plans = programme.community_programme(rng, targets["buildings"], targets["households"], publics)
    else:
        publics = [f"{site.name}村民委员会", f"{site.name}文化礼堂"]
        plans = programme.village_programme(rng, targets["buildings"], targets["households"], publics)
    public = [p for p in plans if p.kind == "public"]
    rest = [p for p in plans if p.kind != "public"]
    rng.shuffle(rest)
    n_grids = 5
    weights = [rng.uniform(0.8, 1.2) for _ in range(n_grids)]
    counts = [int(len(plans) * w / sum(weights)) for w in weights]
    for k in range(len(plans) - sum(counts)):
        counts[k % n_grids] += 1
    by_grid: list[list] = []
    queue = public + rest  # public buildings land in the first grid, near the committee
    start = 0
    for count in counts:
        chunk = queue[start : start + count]
        start += count
        # apartment blocks first: they cluster along the central lane as a compound
        chunk.sort(key=lambda p: p.kind != "apartment")
        by_grid.append(chunk)
    return by_grid


def _write_committee(town: Town, rng, site: Site) -> None:
    kind_name = "社区居民委员会" if site.community else "村民委员会"
    site.department = town.saved(
        Department(
            name=site.name + kind_name,
            code=f"DEMO-{site.code}",
            kind="committee",
            parent=town.government,
            head_name=names.full_name(rng, "M" if rng.random() < 0.8 else "F", rng.randint(1965, 1985)),
            phone=names.landline(rng),
            sort_order=100 + site.index,
            data_source=DEMO,
        )
    )
    site.division = town.saved(
        Division(
            code=site.code,
            name=site.name,
            level="community" if site.community else "village",
            parent=town.division,
            geometry=geo.to_lonlat(site.cell, exact=True),
            data_source=DEMO,
            owner_unit=site.department,
        )
    )


def _worker(rng, username: str, real_name: str, department) -> User:
    user = User(
        username=username,
        real_name=real_name,
        phone=names.mobile(rng),
        department=department,
        email=f"{username}@{catalog.DEMO_EMAIL_DOMAIN}",
    )
    user.set_unusable_password()
    return user


def _write_grids(town: Town, rng, site: Site, shapes) -> tuple[list[Grid], list[list[User]]]:
    """The village grid and its basic grids, each with a leader and one or two members."""
    dept = site.department
    head = _worker(rng, f"cun{site.tag}", dept.head_name, dept)
    workers = []
    for g in range(1, len(shapes) + 1):
        team = [_worker(rng, f"grid{site.tag}{g:02d}", _adult_name(rng), dept)]
        for m in range(1, rng.choice((1, 2, 2)) + 1):
            team.append(_worker(rng, f"grid{site.tag}{g:02d}m{m}", _adult_name(rng), dept))
        workers.append(team)
    town.bulk(User, [head] + [u for team in workers for u in team])
    village_grid = town.saved(
        Grid(
            code=f"G{site.code}",
            name=f"{site.name}网格",
            level=2,
            division=site.division,
            parent=town.grid,
            leader=head,
            geometry=site.division.geometry,
            data_source=DEMO,
            owner_unit=dept,
        )
    )
    grids = []
    for g, (shape, team) in enumerate(zip(shapes, workers, strict=True), start=1):
        grids.append(
            town.saved(
                Grid(
                    code=f"G{site.code}-{g:02d}",
                    name=f"{site.name}第{g}网格",
                    level=3,
                    division=site.division,
                    parent=village_grid,
                    leader=team[0],
                    geometry=geo.to_lonlat(shape, exact=True),
                    data_source=DEMO,
                    owner_unit=dept,
                )
            )
        )
    through = Grid.members.through
    town.bulk(
        through,
        [
            through(grid_id=grid.pk, user_id=u.pk)
            for grid, team in zip(grids, workers, strict=True)
            for u in team[1:]
        ],
    )
    return grids, workers


def _adult_name(rng) -> str:
    sex = "F" if rng.random() < 0.55 else "M"
    return names.full_name(rng, sex, rng.randint(1968, 1998))


def _road(site: Site, name: str, number: int, road_class: str, lanes: int, line) -> Road:
    geometry = geo.to_lonlat(line)
    return Road(
        name=name,
        code=f"R{site.code}-{number:03d}",
        road_class=road_class,
        lanes=lanes,
        length_m=round(length_m(geometry), 1),
        division=site.division,
        geometry=geometry,
        data_source=DEMO,
        owner_unit=site.department,
    )


def _write_roads(town: Town, site: Site, main, lanes_by_grid) -> dict:
    """The division's main road and the lanes buildings were placed along.

    Returns road names keyed by "main" and (grid index, lane index), for addresses.
    """
    rows, names_by_key = [], {}
    main_name = site.root + ("大街" if site.community else "路")
    names_by_key["main"] = main_name
    if main is not None:
        road_class, width = ("secondary", 4) if site.community else ("township", 2)
        rows.append(_road(site, main_name, 1, road_class, width, main))
    for g, lanes in enumerate(lanes_by_grid):
        for k, lane in enumerate(lanes):
            if site.community:
                name = town.street_name()
                rows.append(_road(site, name, len(rows) + 1, "branch", 2, lane))
            else:
                number = catalog.CN_DIGITS[k] if k < len(catalog.CN_DIGITS) else str(k + 1)
                name = f"{site.name}{g + 1}组{number}巷"
                rows.append(_road(site, name, len(rows) + 1, "village", 1, lane))
            names_by_key[(g, k)] = name
    town.bulk(Road, rows)
    return names_by_key


@dataclass
class PlacedBuilding:
    plan: programme.BuildingPlan
    footprint: Polygon  # metric frame
    grid: Grid
    grid_index: int
    row: Building
    compound: str = ""


def _write_buildings(town: Town, site: Site, grids, plans_by_grid, placed, roads) -> list[PlacedBuilding]:
    """Building rows with codes, addresses (组/门牌 or 小区/幢) and lon/lat footprints."""
    result: list[PlacedBuilding] = []
    prefix = catalog.TOWN_NAME
    serial = 0
    numbers: dict = {}
    for g, (grid, plans, (_lanes, placements)) in enumerate(zip(grids, plans_by_grid, placed, strict=True)):
        compound, blocks = None, 0
        for placement in placements:
            plan = plans[placement.spec_index]
            serial += 1
            name = plan.name
            if site.community and plan.kind == "apartment":
                if compound is None:
                    compound = town.compound_name()
                blocks += 1
                name = f"{compound}{blocks}幢"
                address = prefix + name
            elif site.community:
                key = ("main", 0) if placement.lane is None else (g, placement.lane)
                road = roads["main"] if placement.lane is None else roads[key]
                side = 1 if placement.side >= 0 else 2  # odd numbers on the left, even on the right
                count = numbers.get((key, side), 0) + 1
                numbers[(key, side)] = count
                address = f"{prefix}{road}{2 * count - (side == 1)}号"
            else:
                count = numbers.get(g, 0) + 1
                numbers[g] = count
                address = f"{prefix}{site.name}{g + 1}组{count}号"
            row = Building(
                code=f"B{site.code}-{serial:04d}",
                name=name,
                address=address,
                division=site.division,
                grid=grid,
                floors=plan.floors,
                use=plan.use,
                structure=plan.structure,
                built_year=plan.built_year,
                is_self_built=plan.self_built,
                geometry=geo.to_lonlat(placement.footprint),
                data_source=DEMO,
                owner_unit=site.department,
            )
            in_compound = compound if plan.kind == "apartment" and compound else ""
            result.append(PlacedBuilding(plan, placement.footprint, grid, g, row, in_compound))
    town.bulk(Building, [b.row for b in result])
    return result


def _write_micro_grids(town: Town, site: Site, shapes, grids, workers, rows: list[PlacedBuilding]) -> None:
    """Community compounds with three or more blocks become micro grids (level 4)."""
    if not site.community:
        return
    for g, grid in enumerate(grids):
        blocks = [b for b in rows if b.grid_index == g and b.plan.kind == "apartment"]
        if len(blocks) < 3:
            continue
        outline = geo.compound_outline(shapes[g], [b.footprint for b in blocks])
        if outline.is_empty:
            continue
        team = workers[g]
        town.saved(
            Grid(
                code=f"{grid.code}-01",
                name=f"{blocks[0].compound}微网格",
                level=4,
                division=site.division,
                parent=grid,
                leader=team[-1],
                geometry=geo.to_lonlat(outline, exact=True),
                data_source=DEMO,
                owner_unit=site.department,
            )
        )


def _dwellings(site: Site, rows: list[PlacedBuilding]) -> list[Dwelling]:
    result = []
    for b in rows:
        for house in b.plan.houses:
            if house.unit:
                suffix = f"{house.unit}单元{house.room}室"
            elif house.room != "101":
                suffix = f"{house.room}室"
            else:
                suffix = ""
            row = House(
                building=b.row,
                code=f"{b.row.code}-{house.unit or '0'}-{house.room}",
                unit=house.unit,
                floor=house.floor,
                room=house.room,
                area=Decimal(f"{house.area:.2f}"),
                data_source=DEMO,
                owner_unit=site.department,
            )
            result.append(Dwelling(row, b.row, house.kind, b.row.address + suffix))
    return result


#: Building uses that suit a business of each GB/T 4754 section (first match wins).
_SITES_FOR_INDUSTRY = {
    "C": ("industrial",),
    "E": ("industrial", "commercial"),
    "G": ("industrial", "commercial"),
    "A": ("agricultural", "public"),
    "Q": ("public", "commercial"),
    "S": ("public",),
    "P": ("public",),
}


def _write_businesses(town: Town, rng, site: Site, rows: list[PlacedBuilding], count: int) -> list[str]:
    """Business units in suitable buildings; return the names of those that employ people."""
    by_use: dict[str, list[PlacedBuilding]] = {}
    for b in rows:
        by_use.setdefault(b.plan.use, []).append(b)
    units = []
    committee = next((b for b in rows if b.plan.kind == "public"), rows[0])
    units.append(_business(town, rng, site, "collective", f"{site.name}股份经济合作社", "A", committee))
    for b in rows:
        if b.plan.name in catalog.TOWN_PUBLIC_BUILDINGS and b.plan.name != catalog.GOVERNMENT_NAME:
            industry = "Q" if "卫生院" in b.plan.name else "P"
            if "文化中心" in b.plan.name:
                industry = "R"
            units.append(
                _business(town, rng, site, "institution", b.plan.name.removesuffix("（演示）"), industry, b)
            )
    where = "community" if site.community else "village"
    templates = [t for t in catalog.BUSINESS_TEMPLATES if t[5] in (where, "any")]
    weights = [t[0] for t in templates]
    tenants: dict[int, int] = {}  # businesses per building, to spread them out
    while len(units) < count:
        _w, kind, stems, suffixes, industry, _where = rng.choices(templates, weights)[0]
        name = _business_name(town, rng, site, kind, rng.choice(stems), rng.choice(suffixes))
        uses = _SITES_FOR_INDUSTRY.get(industry, ("commercial", "mixed"))
        candidates = next((by_use[u] for u in uses if by_use.get(u)), None) or rows
        fewest = min(tenants.get(id(b), 0) for b in candidates)
        building = rng.choice([b for b in candidates if tenants.get(id(b), 0) == fewest])
        tenants[id(building)] = fewest + 1
        units.append(_business(town, rng, site, kind, name, industry, building))
    units = units[:count]
    town.bulk(BusinessUnit, units)
    return [u.name for u in units if u.unit_type in ("enterprise", "individual") and u.status == "operating"]


def _business_name(town: Town, rng, site: Site, kind: str, stem: str, suffix: str) -> str:
    """A business name not yet used in the town (shop names fall back on the place name, 分店)."""
    if kind in ("cooperative", "social", "association"):
        candidates = [f"{catalog.TOWN_NAME}{site.name}{stem}{suffix}"]
    else:
        firm = rng.choice(catalog.SHOP_PREFIXES)
        if rng.random() < 0.3:
            firm = names.surname(rng) + rng.choice(("记", "氏", "家"))
        town_part = "杭州" if suffix == "有限公司" else catalog.TOWN_NAME
        candidates = [f"{town_part}{firm}{stem}{suffix}", f"{town_part}{site.root}{firm}{stem}{suffix}"]
    for name in candidates:
        if name not in town.business_names:
            town.business_names.add(name)
            return name
    branch = 2
    while f"{candidates[-1]}{branch}分店" in town.business_names:
        branch += 1
    name = f"{candidates[-1]}{branch}分店"
    town.business_names.add(name)
    return name


_UNIT_TYPE = {
    "enterprise": "enterprise",
    "individual": "individual",
    "cooperative": "other",
    "institution": "institution",
    "social": "social",
    "association": "social",
    "collective": "collective",
}
_EMPLOYEES = {
    "enterprise": (5, 240, 18),
    "individual": (1, 6, 2),
    "cooperative": (5, 40, 10),
    "institution": (15, 120, 40),
    "social": (3, 30, 8),
    "association": (3, 20, 5),
    "collective": (3, 12, 5),
}


def _business(town: Town, rng, site: Site, kind: str, name: str, industry: str, where: PlacedBuilding):
    low, high, mode = _EMPLOYEES[kind]
    status = "operating"
    if kind not in ("collective", "institution"):
        status = rng.choices(("operating", "suspended", "closed"), (90, 5, 5))[0]
    edge = where.footprint.exterior.interpolate(rng.random(), normalized=True)
    centre = where.footprint.centroid
    spot = Point((edge.x + centre.x) / 2, (edge.y + centre.y) / 2)
    return BusinessUnit(
        name=f"{name}（演示）",
        uscc=town.usccs.issue(rng, kind),
        unit_type=_UNIT_TYPE[kind],
        industry=industry,
        legal_representative=_adult_name(rng),
        phone=names.mobile(rng) if kind == "individual" else names.landline(rng),
        address=where.row.address,
        employees=round(rng.triangular(low, high, mode)),
        status=status,
        division=site.division,
        grid=where.grid,
        geometry=geo.to_lonlat(spot),
        data_source=DEMO,
        owner_unit=site.department,
    )
