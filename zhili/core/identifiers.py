"""Chinese identifiers: citizen ID numbers (GB 11643) and unified social credit codes (GB 32100).

See shared/spec/domain-facts.md §7. python-stdnum computes the GB 11643 check digit, but its
``validate`` also rejects valid numbers whose address code is missing from its bundled list,
and ``stdnum.cn.uscc`` wrongly rejects codes whose first two characters are letters (e.g.
N… codes of rural collective economic organisations). So: the ID checksum and date are always
verified; unknown address codes follow the ``ZHILI['ID_UNKNOWN_REGION']`` setting (accept by
default, docs/adr/0002); the USCC validator is our own.
"""

import datetime
import functools
import operator
import re
import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric

ID_PATTERN = re.compile(r"^\d{17}[\dX]$", re.ASCII)  # ASCII digits only (not "１" or "١")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_WEIGHTS_ZERO = 48 * sum(ID_WEIGHTS)
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_PATTERN = re.compile(r"^[0-9A-HJ-NP-RTUW-Y]{2}\d{6}[0-9A-HJ-NP-RTUW-Y]{10}$")


def id_check_char(first17: str) -> str:
    """Return the ISO 7064 MOD 11-2 check character of the first 17 digits."""
    # The ASCII codes of the digits, less 48 ("0") per weight: no int() per character.
    total = sum(map(operator.mul, first17.encode(), ID_WEIGHTS)) - _ID_WEIGHTS_ZERO
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


_today_cache: list = [0.0, None]


def _today() -> datetime.date:
    """Return today's local date, re-read at most once a minute (ID validation runs per import row)."""
    now = time.monotonic()
    if _today_cache[1] is None or now - _today_cache[0] > 60:
        _today_cache[:] = [now, timezone.localdate()]
    return _today_cache[1]


def region_known(number: str) -> bool:
    """Return True if python-stdnum's GB/T 2260 list knows the number's address code."""
    try:
        ric.get_birth_place(number)
        return True
    except Exception:
        return False


def normalize_resident_id(value: str) -> str:
    return str(value).strip().replace(" ", "").upper()


def parse_resident_id(value: str) -> tuple[datetime.date, str]:
    """Return (birth date, sex "M"/"F") of a valid 18-character ID number."""
    return _parse_normalized(normalize_resident_id(value))


@functools.lru_cache(maxsize=8192)
def _parse_normalized(number: str) -> tuple[datetime.date, str]:
    # Memoised for one import batch: the field validator parses each number, then
    # ``Resident.clean`` parses it again to derive birth date and sex. The memo holds more
    # numbers than a batch has rows (ZHILI["IMPORT_BATCH_SIZE"]), or every second parse misses.
    birth = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    return birth, ("M" if int(number[16]) % 2 else "F")


def validate_resident_id(value: str) -> None:
    """Raise ValidationError unless ``value`` is a valid GB 11643 citizen ID number."""
    number = normalize_resident_id(value)
    if not ID_PATTERN.match(number):
        raise ValidationError(_("An ID number has 17 digits followed by a digit or X."), code="id_format")
    if id_check_char(number[:17]) != number[17]:
        raise ValidationError(_("The ID number's check character is wrong."), code="id_checksum")
    try:
        birth, _sex = _parse_normalized(number)
    except ValueError:
        raise ValidationError(
            _("The ID number's birth date is not a real date."), code="id_birth_date"
        ) from None
    if birth.year < 1880 or birth > _today():
        raise ValidationError(_("The ID number's birth date is out of range."), code="id_birth_date")
    if settings.ZHILI["ID_UNKNOWN_REGION"] == "reject" and not region_known(number):
        raise ValidationError(
            _("The ID number's address code is not a known GB/T 2260 code."), code="id_region"
        )


def uscc_check_char(first17: str) -> str:
    """Return the GB 32100 check character of the first 17 characters."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> None:
    """Raise ValidationError unless ``value`` is a valid unified social credit code."""
    code = str(value).strip().upper()
    if not USCC_PATTERN.match(code):
        raise ValidationError(
            _(
                "A unified social credit code has 18 characters of 0-9 and A-Z without I, O, Z, S, V; "
                "characters 3-8 are digits."
            ),
            code="uscc_format",
        )
    if uscc_check_char(code[:17]) != code[17]:
        raise ValidationError(
            _("The unified social credit code's check character is wrong."), code="uscc_checksum"
        )
