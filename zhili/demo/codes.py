"""Valid identifiers for demo records: GB 11643 citizen ID numbers and GB 32100 credit codes.

ID address codes are real GB/T 2260 county codes. python-stdnum checks that the code existed in
the holder's birth year (余杭县 330125 until 1994, 余杭市 330184, then 余杭区 330110), so every
place is a *chain* of codes and a person gets the one valid in their birth year, as real IDs do.
"""

import datetime
import functools
import random
from dataclasses import dataclass

from stdnum import numdb

from zhili.core.identifiers import USCC_ALPHABET, id_check_char, uscc_check_char, validate_uscc


@dataclass(frozen=True)
class Place:
    """A county as written in a registration ("安徽省阜阳市临泉县") with its successive codes."""

    province: str
    city: str
    county: str
    codes: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.province}{self.city}{self.county}"


#: The demo town's own county (杭州市余杭区) and its predecessors.
LOCAL = Place("浙江省", "杭州市", "余杭区", ("330125", "330184", "330110"))
#: Neighbouring counties: spouses and non-registered permanent residents come from here.
NEARBY = (
    Place("浙江省", "杭州市", "桐庐县", ("330122",)),
    Place("浙江省", "杭州市", "淳安县", ("330127",)),
    Place("浙江省", "杭州市", "富阳区", ("330123", "330183", "330111")),
    Place("浙江省", "杭州市", "临安区", ("330124", "330185", "330112")),
)
#: Home counties of the floating population, with weights.
ORIGINS = (
    (12, Place("安徽省", "阜阳市", "临泉县", ("342122", "341221"))),
    (8, Place("安徽省", "阜阳市", "太和县", ("342123", "341222"))),
    (10, Place("河南省", "周口市", "郸城县", ("412726", "411625"))),
    (7, Place("河南省", "信阳市", "固始县", ("413026", "411525"))),
    (8, Place("四川省", "广安市", "邻水县", ("513031", "511623"))),
    (6, Place("四川省", "南充市", "南部县", ("512922", "511321"))),
    (6, Place("湖南省", "邵阳市", "隆回县", ("432622", "430524"))),
    (8, Place("贵州省", "毕节市", "威宁彝族回族苗族自治县", ("522427", "520526"))),
    (6, Place("江西省", "赣州市", "赣县区", ("362121", "360721", "360704"))),
    (5, Place("云南省", "昭通市", "镇雄县", ("532128", "530627"))),
    (5, Place("重庆市", "", "云阳县", ("512225", "511224", "500235"))),
    (5, Place("江苏省", "宿迁市", "沭阳县", ("322224", "320823", "321322"))),
    (3, Place("陕西省", "渭南市", "富平县", ("612133", "610528"))),
    (3, Place("广西壮族自治区", "贵港市", "平南县", ("452524", "450821"))),
    (3, Place("河北省", "邢台市", "巨鹿县", ("132231", "130529"))),
)
_ORIGIN_WEIGHTS = tuple(w for w, _ in ORIGINS)
_ORIGIN_PLACES = tuple(p for _, p in ORIGINS)


@functools.cache
def _code_years(code: str) -> tuple[tuple[int | None, int | None], ...]:
    """Return the (first, last) year ranges in which python-stdnum accepts an address code."""
    info = {k: v for _part, props in numdb.get("cn/loc").info(code) for k, v in props.items()}
    ranges = []
    for county in info.get("county", "").split(","):
        if not county:
            continue
        if not county.startswith("["):
            return ((None, None),)
        start, end = county[1:].split("]")[0].split("-")
        ranges.append((int(start) if start else None, int(end) if end else None))
    return tuple(ranges)


def code_for_year(place: Place, year: int) -> str | None:
    """Return the place's address code that was in force in ``year`` (None if none was)."""
    for code in place.codes:
        for start, end in _code_years(code):
            if (start is None or year >= start) and (end is None or year <= end):
                return code
    return None


def random_origin(rng: random.Random, birth_year: int) -> tuple[Place, str]:
    """Return a floating resident's home place and the address code valid for ``birth_year``."""
    while True:
        place = rng.choices(_ORIGIN_PLACES, _ORIGIN_WEIGHTS)[0]
        code = code_for_year(place, birth_year)
        if code:
            return place, code


def nearby_origin(rng: random.Random, birth_year: int) -> tuple[Place, str]:
    """Return a neighbouring Zhejiang county and its code for ``birth_year`` (local as fallback)."""
    place = rng.choice(NEARBY)
    code = code_for_year(place, birth_year)
    if code:
        return place, code
    return LOCAL, code_for_year(LOCAL, birth_year)


class IdNumberFactory:
    """Issue unique, checksummed 18-character ID numbers.

    Uniqueness without remembering every number: a counter per (address code, birth date, sex)
    walks that day's odd (male) or even (female) sequence numbers from a starting point derived
    from the key, so memory grows with the number of distinct keys, not of residents.
    """

    def __init__(self):
        self._issued: dict[int, int] = {}

    def issue(self, code: str, birth: datetime.date, sex: str) -> str:
        male = sex == "M"
        key = (int(code) * 1_000_000 + birth.toordinal()) * 2 + male
        count = self._issued.get(key, 0)
        self._issued[key] = count + 1
        slots = 500 if male else 499  # odd 001-999; even 002-998
        if count >= slots:
            raise ValueError(f"More than {slots} ID numbers for {code} {birth} {sex}")
        index = (key * 2654435761 + count) % slots
        sequence = 2 * index + 1 if male else 2 * index + 2
        first17 = f"{code}{birth:%Y%m%d}{sequence:03d}"
        return first17 + id_check_char(first17)


#: (registration authority + category) per unit kind of catalog.BUSINESS_TEMPLATES.
USCC_PREFIX = {
    "enterprise": "91",
    "individual": "92",
    "cooperative": "93",
    "institution": "12",
    "social": "52",
    "association": "51",
    "collective": "N2",
}
#: Prefix of the 9-character subject identifier for codes issued after 2015, by authority.
_NEW_ORG_PREFIX = {"9": "MA", "5": "MJ", "N": "MF", "1": ""}
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
#: Subject identifiers must stay inside the USCC alphabet (no I, O, S, V, Z).
_ORG_BODY = USCC_ALPHABET


def _org_check_char(body8: str) -> str:
    """GB 11714 check character of an organisation code (weights 3 7 9 10 5 8 4 2, mod 11)."""
    total = sum(int(c, 36) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


class UsccFactory:
    """Issue unique unified social credit codes (GB 32100), each checked by ``validate_uscc``."""

    def __init__(self, division: str):
        self.division = division
        self._issued: set[str] = set()

    def issue(self, rng: random.Random, kind: str) -> str:
        prefix = USCC_PREFIX[kind]
        while True:
            # individual businesses only got codes after 2016; public institutions kept old ones
            new_style = prefix == "92" or (prefix[0] != "1" and rng.random() < 0.75)
            if new_style:
                head = _NEW_ORG_PREFIX[prefix[0]]
                body = head + "".join(rng.choice(_ORG_BODY) for _ in range(8 - len(head)))
            else:
                body = f"{rng.randrange(10**8):08d}"
            first17 = prefix + self.division + body + _org_check_char(body)
            code = first17 + uscc_check_char(first17)
            if code not in self._issued:
                break
        validate_uscc(code)
        self._issued.add(code)
        return code


def pick_origin_place(rng: random.Random) -> Place:
    """A floating household's home county, weighted by how many newcomers come from there."""
    return rng.choices(_ORIGIN_PLACES, _ORIGIN_WEIGHTS)[0]
