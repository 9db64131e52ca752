"""Building programmes of villages and communities: what is built, how tall, and which dwellings.

A village is mostly self-built 2–4 storey family houses, some with a floor let to newcomers; a
community mixes apartment blocks (unit / floor / room), shop-houses on its streets, old
low-rise homes, shops, workshops and public buildings. Dwellings (``HousePlan``) are sized so
that every household finds one and a few stay vacant.
"""

import random
from dataclasses import dataclass, field

from zhili.demo.geometry import BuildingSpec


@dataclass
class HousePlan:
    unit: str
    floor: int
    room: str
    area: float
    kind: str  # "owner" (a family home) or "rent" (a let floor or flat suited to newcomers)


@dataclass
class BuildingPlan:
    kind: str
    use: str
    floors: int
    structure: str
    built_year: int
    self_built: bool
    spec: BuildingSpec
    name: str = ""
    houses: list[HousePlan] = field(default_factory=list)


def _weighted(rng: random.Random, table: dict):
    return rng.choices(tuple(table), tuple(table.values()))[0]


def _year(rng: random.Random, low: int, high: int, mode: int) -> int:
    return round(rng.triangular(low, high, mode))


def _village_structure(rng: random.Random, year: int) -> str:
    if year < 1985:
        return _weighted(rng, {"wood": 3, "masonry": 6, "other": 1})
    if year < 2005:
        return _weighted(rng, {"masonry": 7, "concrete": 3})
    return _weighted(rng, {"masonry": 3, "concrete": 7})


def village_house(rng: random.Random) -> BuildingPlan:
    floors = _weighted(rng, {1: 8, 2: 28, 3: 40, 4: 18, 5: 5, 6: 1})
    year = _year(rng, 1972, 2024, 2002)
    spec = BuildingSpec(rng.uniform(10, 15), rng.uniform(8, 12), rng.uniform(2, 6), _gap(rng, 3, 12))
    plan = BuildingPlan("house", "residential", floors, _village_structure(rng, year), year, True, spec)
    area = round(spec.width * spec.depth * min(floors, 3) * rng.uniform(0.75, 0.9), 2)
    plan.houses.append(HousePlan("", 1, "101", area, "owner"))
    return plan


def _gap(rng: random.Random, low: float, high: float) -> float:
    """Gap after a building: usually small, sometimes a field or garden."""
    return rng.uniform(20, 70) if rng.random() < 0.12 else rng.uniform(low, high)


def village_other(rng: random.Random) -> BuildingPlan:
    kind = _weighted(rng, {"shophouse": 4, "workshop": 4, "shed": 5, "shop": 3})
    year = _year(rng, 1985, 2024, 2010)
    if kind == "shophouse":
        spec = BuildingSpec(rng.uniform(10, 14), rng.uniform(9, 12), rng.uniform(2, 5), _gap(rng, 3, 10))
        plan = BuildingPlan(kind, "mixed", rng.choice((2, 3, 3, 4)), "concrete", year, True, spec)
        plan.houses.append(HousePlan("", 2, "201", round(spec.width * spec.depth * 1.6, 2), "owner"))
        return plan
    if kind == "workshop":
        spec = BuildingSpec(rng.uniform(20, 32), rng.uniform(10, 14), rng.uniform(3, 6), _gap(rng, 6, 15))
        return BuildingPlan(kind, "industrial", rng.choice((1, 1, 2, 3)), "steel", year, False, spec)
    if kind == "shed":
        spec = BuildingSpec(rng.uniform(8, 20), rng.uniform(6, 10), rng.uniform(2, 8), _gap(rng, 5, 25))
        return BuildingPlan(
            kind, "agricultural", 1, rng.choice(("steel", "masonry", "other")), year, True, spec
        )
    spec = BuildingSpec(rng.uniform(10, 18), rng.uniform(8, 12), rng.uniform(2, 5), _gap(rng, 3, 10))
    return BuildingPlan(kind, "commercial", rng.choice((1, 2)), "masonry", year, False, spec)


def public_building(rng: random.Random, name: str, floors: int = 3) -> BuildingPlan:
    spec = BuildingSpec(rng.uniform(24, 36), rng.uniform(12, 14), rng.uniform(5, 9), rng.uniform(10, 20))
    return BuildingPlan(
        "public", "public", floors, "concrete", _year(rng, 1995, 2022, 2012), False, spec, name
    )


def village_programme(
    rng: random.Random, n_buildings: int, n_households: int, public_names: list[str]
) -> list[BuildingPlan]:
    """Buildings of one village with at least ``n_households`` + 4 % dwellings."""
    publics = [public_building(rng, name) for name in public_names[: max(0, n_buildings // 5)]]
    n_other = round((n_buildings - len(publics)) * 0.16)
    plans = publics + [village_other(rng) for _ in range(n_other)]
    plans += [village_house(rng) for _ in range(n_buildings - len(plans))]
    needed = round(n_households * 1.04) + 1
    homes = [p for p in plans if p.houses]
    if not homes:  # a tiny village: make sure families can live somewhere
        plans[-1] = village_house(rng)
        homes = [plans[-1]]
    # Let floors of multi-storey houses (and, if need be, add rooms) until there are enough.
    count = sum(len(p.houses) for p in plans)
    candidates = [p for p in homes if p.floors >= 2] or homes
    while count < needed:
        plan = rng.choice(candidates)
        floor = 1 + len(plan.houses) if plan.floors > len(plan.houses) else plan.floors
        on_floor = sum(1 for h in plan.houses if h.floor == floor)
        room = f"{floor}{on_floor + 1:02d}"
        plan.houses.append(HousePlan("", floor, room, round(rng.uniform(20, 60), 2), "rent"))
        count += 1
    return plans


def apartment(rng: random.Random) -> BuildingPlan:
    floors = _weighted(rng, {6: 20, 7: 6, 9: 6, 11: 10, 12: 6, 15: 8, 16: 4, 18: 10})
    units = _weighted(rng, {1: 2, 2: 5, 3: 3})
    year = _year(rng, 1994, 2023, 2010)
    spec = BuildingSpec(
        units * 15 + rng.uniform(2, 6), rng.uniform(12, 15), rng.uniform(6, 10), rng.uniform(14, 26)
    )
    plan = BuildingPlan("apartment", "residential", floors, "concrete", year, False, spec)
    size = rng.choice((75, 90, 90, 110, 125))
    for unit in range(1, units + 1):
        for floor in range(1, floors + 1):
            for door in (1, 2):
                area = round(size * rng.uniform(0.92, 1.08), 2)
                plan.houses.append(HousePlan(str(unit), floor, f"{floor}{door:02d}", area, "owner"))
    return plan


def community_other(rng: random.Random, kind: str) -> BuildingPlan:
    year = _year(rng, 1980, 2023, 2003)
    if kind == "street":  # shops below, one or two flats per upper floor
        spec = BuildingSpec(rng.uniform(12, 18), rng.uniform(10, 14), rng.uniform(3, 6), rng.uniform(2, 8))
        plan = BuildingPlan(kind, "mixed", rng.choice((2, 3, 3, 4, 5)), "concrete", year, False, spec)
        for floor in range(2, plan.floors + 1):
            for door in range(1, rng.choice((1, 2)) + 1):
                area = round(rng.uniform(50, 110), 2)
                plan.houses.append(HousePlan("", floor, f"{floor}{door:02d}", area, "rent"))
        return plan
    if kind == "oldhouse":
        spec = BuildingSpec(rng.uniform(8, 13), rng.uniform(8, 11), rng.uniform(2, 4), rng.uniform(2, 6))
        floors = rng.choice((1, 2, 2, 3))
        plan = BuildingPlan(kind, "residential", floors, _village_structure(rng, year), year, True, spec)
        plan.houses.append(HousePlan("", 1, "101", round(rng.uniform(60, 160), 2), "owner"))
        return plan
    if kind == "workshop":
        spec = BuildingSpec(rng.uniform(24, 40), rng.uniform(12, 15), rng.uniform(4, 8), rng.uniform(6, 15))
        return BuildingPlan(kind, "industrial", rng.choice((1, 2, 3)), "steel", year, False, spec)
    spec = BuildingSpec(rng.uniform(14, 30), rng.uniform(10, 14), rng.uniform(3, 7), rng.uniform(4, 12))
    return BuildingPlan("shop", "commercial", rng.choice((1, 2, 3, 4)), "concrete", year, False, spec)


def community_programme(
    rng: random.Random, n_buildings: int, n_households: int, public_names: list[str]
) -> list[BuildingPlan]:
    """Buildings of one community with at least ``n_households`` + 6 % dwellings.

    Non-residential and low-rise buildings take fixed shares; apartment blocks are added until
    the dwellings suffice, and low-rise buildings give way if that exceeds the building count.
    """
    publics = [public_building(rng, name, floors=rng.choice((3, 4, 5))) for name in public_names]
    publics = publics[: max(1, n_buildings // 4)]
    shares = {"street": 0.25, "oldhouse": 0.33, "shop": 0.14, "workshop": 0.05}
    others = []
    for kind, share in shares.items():
        others += [community_other(rng, kind) for _ in range(round(n_buildings * share))]
    rng.shuffle(others)
    needed = round(n_households * 1.06) + 1
    blocks: list[BuildingPlan] = []

    def dwellings() -> int:
        return sum(len(p.houses) for p in publics + others + blocks)

    while dwellings() < needed:
        blocks.append(apartment(rng))
    while len(publics) + len(others) + len(blocks) > n_buildings and others:
        others.pop()
        while dwellings() < needed:
            blocks.append(apartment(rng))
    while len(publics) + len(others) + len(blocks) < n_buildings:
        others.append(community_other(rng, rng.choice(("shop", "oldhouse", "street"))))
    return publics + blocks + others
