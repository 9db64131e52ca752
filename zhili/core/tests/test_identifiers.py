"""GB 11643 citizen ID numbers and GB 32100 unified social credit codes (domain-facts §7)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from stdnum.cn import ric, uscc

from zhili.core.identifiers import (
    id_check_char,
    parse_resident_id,
    uscc_check_char,
    validate_resident_id,
    validate_uscc,
)

pytestmark = [pytest.mark.req("R-7.1-people"), pytest.mark.req("R-10.3-input")]


def test_known_valid_number_from_domain_facts():
    validate_resident_id("11010519491231002X")
    validate_resident_id("11010519491231002x")
    assert parse_resident_id("11010519491231002X") == (datetime.date(1949, 12, 31), "F")


def test_check_character_matches_stdnum_for_many_inputs():
    for n in range(0, 20000, 7):
        first17 = f"3301061980{n % 12 + 1:02d}{n % 28 + 1:02d}{n % 1000:03d}"
        assert id_check_char(first17) == ric.calc_check_digit(first17 + "0")  # stdnum drops the last char


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("11010519491231002", "id_format"),
        ("1101051949123100ZX", "id_format"),
        ("110105194912310021", "id_checksum"),
        ("110105194902300027", "id_birth_date"),
    ],
)
def test_invalid_numbers_are_rejected_with_a_reason(number, code):
    if code == "id_birth_date":
        number = number[:17] + id_check_char(number[:17])
    with pytest.raises(ValidationError) as info:
        validate_resident_id(number)
    assert info.value.code == code


def test_future_birth_date_is_rejected():
    first17 = "330106209901010001"[:17]
    with pytest.raises(ValidationError):
        validate_resident_id(first17 + id_check_char(first17))


def test_unknown_address_code_is_accepted_by_default_and_rejected_when_configured(settings):
    first17 = "99999919800101001"  # 999999 is no GB/T 2260 code
    number = first17 + id_check_char(first17)
    assert not ric.is_valid(number)  # stdnum rejects it: the reason for our own rule
    validate_resident_id(number)
    with (
        override_settings(ZHILI={**settings.ZHILI, "ID_UNKNOWN_REGION": "reject"}),
        pytest.raises(ValidationError),
    ):
        validate_resident_id(number)


def make_code(prefix: str, body: str = "MA0000000") -> str:
    first17 = f"{prefix}330106{body}"
    return first17 + uscc_check_char(first17)


def test_uscc_check_character_matches_stdnum_for_digit_prefixes():
    for n in range(500):
        code = make_code("91", f"{n:09d}")
        assert uscc.is_valid(code)
        validate_uscc(code)


def test_uscc_with_letter_prefix_is_valid_although_stdnum_rejects_it():
    code = make_code("N2")
    assert not uscc.is_valid(code)
    validate_uscc(code)
    validate_uscc(make_code("Y1"))


@pytest.mark.parametrize(
    "bad", ["91330106MA000000", "9133010IMA0000000X", "I1330106MA00000000", "91A30106MA00000000"]
)
def test_malformed_uscc_is_rejected(bad):
    with pytest.raises(ValidationError):
        validate_uscc(bad)


def test_uscc_wrong_check_character_is_rejected():
    code = make_code("91")
    wrong = "0" if code[-1] != "0" else "1"
    with pytest.raises(ValidationError) as info:
        validate_uscc(code[:-1] + wrong)
    assert info.value.code == "uscc_checksum"


def test_id_numbers_with_non_ascii_digits_are_a_format_error():
    """Full-width or Arabic-Indic digits look like digits to ``\\d`` but are not an ID number."""
    from django.core.exceptions import ValidationError

    first17 = "11010519491231002"
    valid = first17 + id_check_char(first17)
    validate_resident_id(valid)
    full_width = valid.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    with pytest.raises(ValidationError) as caught:
        validate_resident_id(full_width)
    assert caught.value.code == "id_format"
