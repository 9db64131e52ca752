"""Build the deterministic demo town "清溪镇（演示）" (``zhili demo``, ``zhili up`` on an empty database).

One scale unit is 5 villages and 3 communities with 2,000 buildings, 6,000 households, 15,000
residents and 300 business units; ``scale`` multiplies the villages. Every record carries
``data_source="demo"``. The same scale (and seed) always produces the same data: randomness
comes from ``random.Random`` seeded per town and per village, and dates are computed at the
fixed ``spec.REFERENCE_DATE``.
"""

import datetime
import itertools
import random
import time

import shapely
from django.db import transaction
from django.utils import timezone

from zhili.accounts.models import User
from zhili.core.dbstats import refresh_statistics
from zhili.core.geo import length_m
from zhili.demo import catalog, cleanup, names
from zhili.demo import geometry as geo
from zhili.demo.context import DEMO, Town
from zhili.demo.division import build_division
from zhili.demo.hooks import demo_hooks
from zhili.demo.spec import SEED, DemoSpec
from zhili.orgs.models import Department
from zhili.people.models import Tag
from zhili.places.models import Division, Grid, Road

DemoConflict = cleanup.DemoConflict


class _Output:
    def __init__(self, stream):
        self.stream = stream

    def __call__(self, message: str) -> None:
        if self.stream is None:
            return
        self.stream.write(message + "\n")
        if hasattr(self.stream, "flush"):
            self.stream.flush()


def build_demo(
    scale: int = 1,
    reset: bool = False,
    stdout=None,
    *,
    density: float = 1.0,
    seed: int = SEED,
    now: datetime.datetime | None = None,
) -> dict[str, int]:
    """Build the demo town and return the number of rows created per model label.

    ``reset`` first deletes existing demo data. Without it, existing demo data is left alone:
    a message is printed and an empty dict returned. ``density`` (tests) shrinks every village.
    Raises ``DemoConflict`` when non-demo records already use the demo town's codes.
    ``now`` (default: the current time) is the moment that time-relative records count back from.
    """
    spec = DemoSpec(scale=scale, density=density, seed=seed)
    write = _Output(stdout)
    if reset:
        write("Deleting existing demo data…")
        cleanup.delete_demo(write)
    elif cleanup.demo_exists():
        write("Demo data already exists; nothing was changed. Run `zhili demo --reset` to rebuild it.")
        return {}
    cleanup.check_conflicts()
    started = time.monotonic()
    write(
        f"Building the demo town {catalog.TOWN_LABEL}: scale {spec.scale}, "
        f"{spec.n_villages} villages and communities (demo data, data_source=demo)…"
    )
    town = build_town(spec, now)
    step = 1 if spec.n_villages <= 16 else 8
    for index in range(spec.n_villages):
        made = build_division(town, index)
        if (index + 1) % step == 0 or index + 1 == spec.n_villages:
            write(
                f"  [{index + 1}/{spec.n_villages}] {made['name']}: {made['households']:,} households, "
                f"{made['residents']:,} residents; total {town.counts['people.Resident']:,} residents "
                f"({time.monotonic() - started:.0f} s)"
            )
    for hook in demo_hooks():
        write(f"  {hook.name}…")
        hook.build(town, write)
    counts = dict(sorted(town.counts.items()))
    refresh_statistics()
    write(f"Demo town built in {time.monotonic() - started:.1f} s:")
    for label, count in counts.items():
        write(f"  {label:<32} {count:>10,}")
    return counts


def division_names(n: int, communities: list[int]) -> list[str]:
    """Short names ("桃源", "文昌") for every village index, unique within the town."""
    combos = (a + b for a in catalog.NAME_FIRST for b in catalog.NAME_SECOND if a != b)
    village_names = itertools.chain(catalog.VILLAGE_NAMES, combos)
    community_names = itertools.chain(catalog.COMMUNITY_NAMES, village_names)
    used: set[str] = set()
    result = []
    community_set = set(communities)
    for index in range(n):
        source = community_names if index in community_set else village_names
        name = next(source)
        while name in used:
            name = next(source)
        used.add(name)
        result.append(name)
    return result


def build_town(spec: DemoSpec, now: datetime.datetime | None = None) -> Town:
    """Town-level rows: government and offices, staff, town division and grid, tags, through roads."""
    rng = random.Random(f"{spec.seed}:town")
    layout = geo.town_layout(spec.n_villages, spec.n_communities, rng)
    arterials = geo.arterial_lines(layout, rng)
    publics: dict[int, list[str]] = {}
    for k, name in enumerate(catalog.TOWN_PUBLIC_BUILDINGS):
        publics.setdefault(layout.communities[(k // 2) % len(layout.communities)], []).append(name)
    town = Town(
        spec=spec,
        layout=layout,
        names=division_names(spec.n_villages, layout.communities),
        division=None,
        grid=None,
        government=None,
        tags={},
        arterial_area=shapely.union_all([line.buffer(12) for _direction, line in arterials]),
        public_buildings=publics,
        now=now or timezone.now(),
    )
    with transaction.atomic():
        town.government = town.saved(
            Department(
                name=catalog.GOVERNMENT_NAME,
                code=f"DEMO-{catalog.TOWN_CODE}",
                kind="government",
                head_name=names.full_name(rng, "M", 1972),
                phone=names.landline(rng),
                data_source=DEMO,
            )
        )
        staff = _offices(town, rng)
        outline = geo.to_lonlat(layout.town, exact=True)
        town.division = town.saved(
            Division(
                code=catalog.TOWN_CODE,
                name=catalog.TOWN_LABEL,
                level="town",
                geometry=outline,
                data_source=DEMO,
                owner_unit=town.government,
            )
        )
        town.grid = town.saved(
            Grid(
                code=f"G{catalog.COUNTY_CODE}{catalog.TOWN_DIGITS}",
                name=f"{catalog.TOWN_NAME}网格（演示）",
                level=1,
                division=town.division,
                leader=staff[catalog.GRID_OFFICE],
                geometry=outline,
                data_source=DEMO,
                owner_unit=town.government,
            )
        )
        town.tags = _tags(town)
        _through_roads(town, arterials)
    return town


def _offices(town: Town, rng: random.Random) -> dict[str, User]:
    """The town's offices and stations, each with one or two staff accounts (no superusers)."""
    first_staff, users = {}, []
    for order, (suffix, name, kind, prefix) in enumerate(catalog.OFFICES, start=1):
        office = town.saved(
            Department(
                name=name,
                code=f"DEMO-{catalog.TOWN_CODE}-{suffix}",
                kind=kind,
                parent=town.government,
                head_name=names.full_name(rng, "M" if rng.random() < 0.6 else "F", rng.randint(1966, 1988)),
                phone=names.landline(rng),
                sort_order=order,
                data_source=DEMO,
                owner_unit=town.government,
            )
        )
        for n in range(1, (3 if suffix in ("ZZZX", "SHSW") else 2)):
            username = f"{prefix}{n:02d}"
            sex = "F" if rng.random() < 0.5 else "M"
            user = User(
                username=username,
                real_name=names.full_name(rng, sex, rng.randint(1970, 1998)),
                phone=names.mobile(rng),
                department=office,
                email=f"{username}@{catalog.DEMO_EMAIL_DOMAIN}",
            )
            user.set_unusable_password()
            users.append(user)
            first_staff.setdefault(suffix, user)
    town.bulk(User, users)
    return first_staff


def _tags(town: Town) -> dict[str, Tag]:
    """The care/service/key/party tags; tags a user already made with the same name are reused."""
    existing = {t.name: t for t in Tag.objects.filter(name__in=[t[0] for t in catalog.TAGS])}
    new = [
        Tag(name=name, category=category, color=color, description=description, data_source=DEMO)
        for name, category, color, description in catalog.TAGS
        if name not in existing
    ]
    town.bulk(Tag, new)
    return {**existing, **{t.name: t for t in new}}


def _through_roads(town: Town, arterials) -> None:
    rows = []
    for k, (direction, line) in enumerate(arterials):
        pool = catalog.ARTERIAL_EW if direction == "ew" else catalog.ARTERIAL_NS
        n = sum(1 for d, _ in arterials[:k] if d == direction)
        name = pool[n % len(pool)] + ("" if n < len(pool) else f"{n // len(pool) + 1}段")
        geometry = geo.to_lonlat(line)
        rows.append(
            Road(
                name=name,
                code=f"R{catalog.TOWN_CODE}-{k + 1:03d}",
                road_class="arterial" if direction == "ew" else "secondary",
                lanes=4,
                length_m=round(length_m(geometry), 1),
                division=town.division,
                geometry=geometry,
                data_source=DEMO,
                owner_unit=town.government,
            )
        )
    town.bulk(Road, rows)
