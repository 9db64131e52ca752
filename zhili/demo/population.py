"""Households and their members: sizes, family make-up, ages, origins and personal attributes.

Families are composed by generation (head, spouse, children, their spouses, grandchildren,
parents), so ages, surnames and relations agree with each other. The age pyramid is not drawn
directly: it follows from household make-up, which leans old in villages (elderly couples,
grandparents raising grandchildren while parents work away) and young among newcomers.
"""

import datetime
import random
from dataclasses import dataclass

from zhili.demo import codes, names
from zhili.demo.spec import REFERENCE_DATE


@dataclass
class Member:
    relation: str
    age: int
    sex: str
    blood: bool  # carries the family surname (else the in-marrying surname)


def weighted(rng: random.Random, table: dict):
    return rng.choices(tuple(table), tuple(table.values()))[0]


SIZE_PERMANENT = {
    False: {1: 8, 2: 22, 3: 24, 4: 20, 5: 15, 6: 8, 7: 3},  # village
    True: {1: 20, 2: 35, 3: 28, 4: 12, 5: 5},  # community
}
SIZE_FLOATING = {1: 50, 2: 30, 3: 15, 4: 5}


def household_sizes(rng: random.Random, kinds: list[str], total: int, urban: bool) -> list[int]:
    """Sizes for households of the given kinds ("permanent", "floating", "empty") summing to ``total``."""
    sizes = []
    for kind in kinds:
        if kind == "empty":
            sizes.append(0)
        elif kind == "floating":
            sizes.append(weighted(rng, SIZE_FLOATING))
        else:
            sizes.append(weighted(rng, SIZE_PERMANENT[urban]))
    occupied = [i for i, s in enumerate(sizes) if s]
    if not occupied:
        return sizes
    total = min(max(total, len(occupied)), 8 * len(occupied))
    diff = total - sum(sizes)
    while diff > 0:
        i = rng.choice(occupied)
        if sizes[i] < 8:
            sizes[i] += 1
            diff -= 1
    while diff < 0:
        i = rng.choice(occupied)
        if sizes[i] > 1:
            sizes[i] -= 1
            diff += 1
    return sizes


def _opposite(sex: str) -> str:
    return "F" if sex == "M" else "M"


def _child_sex(rng: random.Random) -> str:
    return "M" if rng.random() < 0.52 else "F"


def compose_permanent(rng: random.Random, size: int) -> list[Member]:
    """Members of a local family of ``size`` people, head first."""
    if size == 1:
        if rng.random() < 0.15:  # an elderly person living alone
            return [
                Member("head", round(rng.triangular(66, 96, 76)), "F" if rng.random() < 0.6 else "M", True)
            ]
        return [Member("head", round(rng.triangular(22, 65, 38)), _child_sex(rng), True)]
    weights = {
        2: {"elders": 50, "young": 28, "single_parent": 12, "skip": 10},
        3: {"young": 62, "elders": 26, "skip": 8, "single_parent": 4},
        4: {"young": 58, "elders": 32, "skip": 10},
    }.get(size, {"young": 45, "elders": 55})
    template = weighted(rng, weights)
    if template == "elders":
        head_age = round(rng.triangular(48, 90, 60) if size > 2 else rng.triangular(55, 92, 66))
    elif template == "skip":
        head_age = rng.randint(52, 76)
    elif template == "single_parent":
        head_age = rng.randint(32, 62)
    else:
        head_age = round(rng.triangular(22, 60, 35))
    head_sex = "M" if rng.random() < 0.78 else "F"
    members = [Member("head", head_age, head_sex, True)]

    def add(relation, age, sex, blood):
        if len(members) < size and 0 <= age <= 99:
            members.append(Member(relation, age, sex, blood))

    if template != "single_parent" and (template != "skip" or rng.random() < 0.75):
        # wives are usually a little younger than their husbands
        gap = rng.randint(-5, 3)
        add("spouse", max(18, head_age + (gap if head_sex == "M" else -gap)), _opposite(head_sex), False)
    if template == "skip":
        while len(members) < size:
            add("grandchild", rng.randint(1, 15), _child_sex(rng), True)
        return members
    if template == "elders":
        children = []
        while len(members) < size:
            if not children or (len(children) < 3 and rng.random() < 0.25):
                child = Member("child", max(0, head_age - rng.randint(23, 34)), _child_sex(rng), True)
                if child.age < 16 and head_age >= 55:
                    child.age = rng.randint(18, 30)
                members.append(child)
                children.append(child)
                if child.age >= 22 and rng.random() < 0.85:
                    add("other", child.age + rng.randint(-3, 3), _opposite(child.sex), False)
                continue
            parent = rng.choice(children)
            if parent.age >= 21:
                add(
                    "grandchild", max(0, parent.age - rng.randint(21, 32)), _child_sex(rng), parent.sex == "M"
                )
            else:
                add("child", max(0, head_age - rng.randint(23, 38)), _child_sex(rng), True)
        return members
    # Young family: children first, then the head's parents (often only the mother survives).
    parents = children = 0
    while len(members) < size:
        if parents < 2 and children >= 1 and head_age <= 66 and (children >= 2 or rng.random() < 0.45):
            if parents == 0:
                sex = "M" if rng.random() < 0.55 else "F"
            else:
                sex = _opposite(members[-1].sex)
            add("parent", min(head_age + rng.randint(22, 32), 97), sex, sex == "M")
            parents += 1
        else:
            add("child", max(0, head_age - rng.randint(20, 36)), _child_sex(rng), True)
            children += 1
    return members


def compose_floating(rng: random.Random, size: int) -> list[Member]:
    """Members of a newcomer household: workers, couples, young children."""
    head_age = round(rng.triangular(18, 58, 30))
    head_sex = "M" if rng.random() < 0.65 else "F"
    members = [Member("head", head_age, head_sex, True)]
    if size >= 2:
        if rng.random() < 0.75 or size > 2:
            spouse_age = max(18, head_age + rng.randint(-4, 4))
            members.append(Member("spouse", spouse_age, _opposite(head_sex), False))
        else:
            relation = weighted(rng, {"sibling": 2, "other": 1})
            age = max(18, head_age + rng.randint(-6, 6))
            members.append(Member(relation, age, _child_sex(rng), relation == "sibling"))
    while len(members) < size:
        age = head_age - rng.randint(20, 34)
        if age < 0:
            age = rng.randint(0, 3)
        members.append(Member("child", min(age, 17), _child_sex(rng), True))
    return members


def birth_date(rng: random.Random, age: int) -> datetime.date:
    """A birth date at which the person is exactly ``age`` on the reference date."""
    ref = REFERENCE_DATE
    latest = ref.replace(year=ref.year - age).toordinal()
    earliest = ref.replace(year=ref.year - age - 1).toordinal() + 1
    return datetime.date.fromordinal(rng.randint(earliest, latest))


def age_on_reference(born: datetime.date) -> int:
    ref = REFERENCE_DATE
    return ref.year - born.year - ((ref.month, ref.day) < (born.month, born.day))


ETHNIC_MINORITY = {
    "522427": (0.35, ("彝族", "回族", "苗族")),
    "520526": (0.35, ("彝族", "回族", "苗族")),
    "452524": (0.25, ("壮族", "瑶族")),
    "450821": (0.25, ("壮族", "瑶族")),
}


def ethnicity(rng: random.Random, code: str) -> str:
    share, groups = ETHNIC_MINORITY.get(code, (0.006, ("畲族", "回族", "土家族", "苗族")))
    return rng.choice(groups) if rng.random() < share else "汉族"


def education(rng: random.Random, age: int, birth_year: int, floating: bool) -> str:
    if age < 6:
        return ""
    if age < 12:
        return "primary"
    if age < 15:
        return "junior"
    if age < 18:
        return "senior"
    if birth_year < 1950:
        table = {"none": 30, "primary": 50, "junior": 15, "senior": 5}
    elif birth_year < 1970:
        table = {"none": 5, "primary": 35, "junior": 40, "senior": 15, "college": 3, "bachelor": 2}
    elif birth_year < 1990:
        table = {"primary": 8, "junior": 35, "senior": 27, "college": 15, "bachelor": 13, "postgraduate": 2}
    else:
        table = {"junior": 12, "senior": 26, "college": 28, "bachelor": 29, "postgraduate": 5}
    if floating and birth_year >= 1950:
        table = dict(table)
        table["junior"] = table.get("junior", 0) + 25
        table["primary"] = table.get("primary", 0) + 6
    return weighted(rng, table)


def occupation(rng: random.Random, age: int, sex: str, table: tuple) -> str:
    if age < 6:
        return "学龄前儿童"
    if age < 16:
        return "学生"
    if age < 22 and rng.random() < 0.6:
        return "学生"
    if age >= (60 if sex == "M" else 55):
        if age < 72 and rng.random() < 0.35:
            return rng.choices([o for o, _ in table], [w for _, w in table])[0]
        return "退休"
    return rng.choices([o for o, _ in table], [w for _, w in table])[0]


def political_status(rng: random.Random, age: int, sex: str, floating: bool) -> str:
    if age >= 18:
        roll = rng.random()
        party = (0.025 if floating else 0.062) * (1.3 if sex == "M" else 0.7) * (1.2 if age >= 45 else 1.0)
        if roll < party:
            return "party"
        if roll < party + 0.003:
            return "probationary"
        if age <= 28 and roll < party + 0.2:
            return "league"
        return "masses"
    if age >= 14 and rng.random() < 0.3:
        return "league"
    return "masses"


def member_origin(
    rng: random.Random, member: Member, home: codes.Place, birth_year: int
) -> tuple[codes.Place, str]:
    """Where a member's ID number was issued: the household's county, or an in-law's home."""
    if not member.blood:
        roll = rng.random()
        if home is codes.LOCAL:
            if roll < 0.22:
                return codes.nearby_origin(rng, birth_year)
            if roll < 0.30:
                return codes.random_origin(rng, birth_year)
        elif roll < 0.2:
            return codes.random_origin(rng, birth_year)
    code = codes.code_for_year(home, birth_year)
    if code:
        return home, code
    return codes.random_origin(rng, birth_year)


def person_name(
    rng: random.Random, member: Member, sex: str, birth_year: int, family: str, local: bool
) -> str:
    surname = family if member.blood else names.other_surname(rng, family, local)
    return surname + names.given_name(rng, sex, birth_year)
