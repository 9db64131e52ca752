"""Households, residents, their tags and floating-population registrations for one division."""

import datetime
import random
from dataclasses import dataclass

from zhili.demo import catalog, codes, names
from zhili.demo import population as pop
from zhili.demo.context import DEMO, Town
from zhili.demo.spec import REFERENCE_DATE
from zhili.people.models import FloatingRegistration, Household, Resident

FLOATING_SHARE, EMPTY_SHARE = 0.15, 0.05
NON_REGISTERED_SHARE = 0.08  # permanent households registered elsewhere (常住非户籍)


def assign_households(rng: random.Random, dwellings: list, n_households: int) -> list[tuple[str, object]]:
    """Give each household a type and a dwelling; set every dwelling's use accordingly.

    Newcomers rent (let floors, street flats) first; families live in family homes first.
    When households outnumber dwellings, some share one (cannot happen at the standard sizes).
    """
    n_floating = round(n_households * FLOATING_SHARE)
    n_empty = round(n_households * EMPTY_SHARE)
    n_permanent = n_households - n_floating - n_empty
    rent = [d for d in dwellings if d.kind == "rent"]
    owner = [d for d in dwellings if d.kind != "rent"]
    rng.shuffle(rent)
    rng.shuffle(owner)
    for d in dwellings:
        d.row.use = "vacant"

    def take(first: list, second: list):
        if first:
            return first.pop()
        if second:
            return second.pop()
        return rng.choice(dwellings)

    assignments = []
    for kind, count, use in (
        ("floating", n_floating, "rented"),
        ("permanent", n_permanent, "owner"),
        ("empty", n_empty, "vacant"),
    ):
        for _ in range(count):
            dwelling = take(rent, owner) if kind == "floating" else take(owner, rent)
            dwelling.row.use = use
            assignments.append((kind, dwelling))
    assignments.sort(key=lambda a: a[1].row.code)
    return assignments


@dataclass
class Person:
    row: Resident
    age: int
    place: codes.Place
    member: pop.Member


def write_people(town: Town, rng: random.Random, site, assignments, n_residents: int, employers: list[str]):
    """Write the households, residents, tag links and registrations; return counts for progress."""
    kinds = [kind for kind, _ in assignments]
    sizes = pop.household_sizes(rng, kinds, n_residents, site.community)
    occupations = catalog.OCCUPATIONS_COMMUNITY if site.community else catalog.OCCUPATIONS_VILLAGE
    households, families = [], []
    for seq, ((kind, dwelling), size) in enumerate(zip(assignments, sizes, strict=True), start=1):
        home, residence = _home(rng, kind)
        local = home is codes.LOCAL or home in codes.NEARBY
        family = names.surname(rng, local)
        if kind == "floating":
            members = pop.compose_floating(rng, size)
        elif size:
            members = pop.compose_permanent(rng, size)
        else:
            members = []
        people = []
        for member in members:
            people.append(_person(town, rng, member, home, family, local, residence, dwelling, occupations))
        if people:
            head_name, phone = people[0].row.name, people[0].row.phone or names.mobile(rng)
        else:  # 空壳户: registered here, living elsewhere
            head_name = names.full_name(rng, "M", rng.randint(1950, 1990), family)
            phone = names.mobile(rng)
        household = Household(
            number=f"{site.code}{seq:04d}",
            household_type=kind,
            house=dwelling.row,
            grid=dwelling.building.grid,
            head_name=head_name,
            address=dwelling.address,
            phone=phone,
            data_source=DEMO,
            owner_unit=site.department,
        )
        for person in people:
            person.row.household = household
            person.row.owner_unit = site.department
        households.append(household)
        families.append((household, people))
    town.bulk(Household, households)
    residents = [p.row for _, people in families for p in people]
    for row in residents:
        row.household_id = row.household.pk
    town.bulk(Resident, residents)
    _write_tags(town, rng, families)
    _write_registrations(town, rng, families, employers)
    return {"name": site.name, "households": len(households), "residents": len(residents)}


def _home(rng: random.Random, kind: str) -> tuple[codes.Place, str]:
    """Home county and residence type of a household."""
    if kind == "floating":
        return codes.pick_origin_place(rng), "floating"
    if kind == "permanent" and rng.random() < NON_REGISTERED_SHARE:
        place = rng.choice(codes.NEARBY) if rng.random() < 0.5 else codes.pick_origin_place(rng)
        return place, "permanent"
    return codes.LOCAL, "registered"


def _person(town, rng, member: pop.Member, home, family, local, residence, dwelling, occupations) -> Person:
    born = pop.birth_date(rng, member.age)
    place, code = pop.member_origin(rng, member, home, born.year)
    floating = residence == "floating"
    status = "active"
    if member.relation != "head":
        roll = rng.random()
        if roll < (0.03 if floating else 0.01):
            status = "moved_out"
        elif member.age > 75 and roll > 0.995:
            status = "deceased"
    row = Resident(
        name=pop.person_name(rng, member, member.sex, born.year, family, local),
        id_number=town.ids.issue(code, born, member.sex),
        sex=member.sex,
        birth_date=born,
        ethnicity=pop.ethnicity(rng, code),
        phone=names.mobile(rng) if member.age >= 14 and rng.random() < 0.92 else "",
        relation=member.relation,
        house=dwelling.row,
        grid=dwelling.building.grid,
        residence_type=residence,
        address=dwelling.address,
        political_status=pop.political_status(rng, member.age, member.sex, floating),
        education=pop.education(rng, member.age, born.year, floating),
        occupation=pop.occupation(
            rng, member.age, member.sex, catalog.OCCUPATIONS_FLOATING if floating else occupations
        ),
        status=status,
        data_source=DEMO,
    )
    return Person(row, member.age, place, member)


def _write_tags(town: Town, rng: random.Random, families) -> None:
    """Tags that follow from the family (独居, 空巢, 留守, 低保) and a few drawn at random."""
    tag = {name: t.pk for name, t in town.tags.items()}
    through = Resident.tags.through
    links = []
    for household, people in families:
        if not people:
            continue
        ages = [p.age for p in people]
        working_age = any(18 <= a < 60 for a in ages)
        poor = household.household_type == "permanent" and rng.random() < 0.015
        for p in people:
            has = set()
            if len(people) == 1 and p.age >= 70:
                has.add("独居老人")
            elif len(people) > 1 and min(ages) >= 60:
                has.add("空巢老人")
            if p.age < 16 and not working_age and household.household_type == "permanent":
                has.add("留守儿童")
            if rng.random() < (0.035 if p.age >= 60 else 0.012):
                has.add("残疾人")
            if poor:
                has.add("低保户")
            if (has & {"独居老人", "残疾人"}) and not working_age and rng.random() < 0.15:
                has.add("特困人员")
            veteran_odds = 0.025 if p.row.sex == "M" else 0.002
            if p.row.residence_type != "floating" and 22 <= p.age <= 80 and rng.random() < veteran_odds:
                has.add("退役军人")
            if 18 <= p.age <= 60 and rng.random() < 0.003:
                has.add("重点人员")
            if p.row.political_status in ("party", "probationary"):
                has.add("党员")
            links += [through(resident_id=p.row.pk, tag_id=tag[name]) for name in sorted(has)]
    town.bulk(through, links)


_REASONS = {
    "head": {"work": 72, "business": 18, "other": 10},
    "spouse": {"family": 45, "work": 45, "business": 10},
    "child": {"study": 40, "work": 45, "family": 15},
}


def _write_registrations(town: Town, rng: random.Random, families, employers: list[str]) -> None:
    """One registration per floating resident aged 16 or over, with the residence certificate."""
    rows = []
    ref = REFERENCE_DATE
    for household, people in families:
        if household.household_type != "floating" or not people:
            continue
        came = ref - datetime.timedelta(days=round(rng.triangular(20, 3650, 400)))
        for p in people:
            if p.age < 16:
                continue
            arrival = min(ref, came + datetime.timedelta(days=rng.choice((0, 0, 0, rng.randint(1, 300)))))
            arrival = max(arrival, p.row.birth_date + datetime.timedelta(days=1))
            reason = pop.weighted(rng, _REASONS.get(p.member.relation, {"work": 80, "family": 20}))
            employer = ""
            if reason == "work":
                local = employers and rng.random() < 0.6
                employer = rng.choice(employers) if local else rng.choice(catalog.OUTSIDE_EMPLOYERS)
            status, number, valid_until = _certificate(town, rng, arrival)
            rows.append(
                FloatingRegistration(
                    resident=p.row,
                    origin=p.place.label,
                    arrival_date=arrival,
                    reason=reason,
                    house=p.row.house,
                    employer=employer,
                    certificate_status=status,
                    certificate_number=number,
                    valid_until=valid_until,
                    status="left" if p.row.status == "moved_out" else "residing",
                    data_source=DEMO,
                    owner_unit=household.owner_unit,
                )
            )
    town.bulk(FloatingRegistration, rows)


def _certificate(town: Town, rng: random.Random, arrival: datetime.date):
    """(status, number, valid until) of the residence certificate (居住证), consistent with clean()."""
    ref = REFERENCE_DATE
    stayed = (ref - arrival).days
    if stayed < 183:
        return pop.weighted(rng, {"none": 65, "applied": 35}), "", None
    status = pop.weighted(rng, {"issued": 55, "expired": 15, "applied": 10, "none": 20})
    if status in ("none", "applied"):
        return status, "", None
    if status == "expired":
        earliest = arrival + datetime.timedelta(days=181)
        latest = ref - datetime.timedelta(days=1)
        if earliest > latest:
            return "applied", "", None
        valid_until = earliest + datetime.timedelta(days=rng.randint(0, (latest - earliest).days))
    else:
        valid_until = ref + datetime.timedelta(days=rng.randint(15, 360))
    issued = max(arrival + datetime.timedelta(days=180), valid_until - datetime.timedelta(days=365))
    number = f"{catalog.COUNTY_CODE}{issued.year}{next(town.certificates):06d}"
    return status, number, valid_until
