import uuid
from datetime import date

import pytest

from services.registry.persons.nik_rules import (
    is_nik_shaped,
    is_provisional_id,
    new_provisional_id,
    nik_date_part,
    parse_nik,
    validate_kk,
    validate_nik,
)

TODAY = date(2025, 6, 2)
PROVINCES = {"61", "62"}
DISTRICTS = {"61.04.16", "61.04.01"}  # Delta Pawan and one more Ketapang district


def check(nik: str, **kwargs):
    kwargs.setdefault("known_districts", DISTRICTS)
    return validate_nik(nik, today=TODAY, known_provinces=PROVINCES, **kwargs)


def check_kk(number: str, today: date = TODAY, **kwargs):
    return validate_kk(
        number, today=today, known_provinces=PROVINCES, known_districts=DISTRICTS, **kwargs
    )


# --- NIK ---------------------------------------------------------------------------------


def test_woman_born_1998_03_05_in_delta_pawan() -> None:
    result = check("6104164503980001", birth_date=date(1998, 3, 5), sex=2)
    assert result.valid and result.errors == () and result.warnings == ()
    parts = result.parts
    assert (parts.province_code, parts.regency_code, parts.district_code) == (
        "61",
        "6104",
        "610416",
    )
    assert parts.district_dotted == "61.04.16"
    assert (parts.day, parts.month, parts.year_2, parts.sex, parts.serial) == (5, 3, 98, 2, 1)
    assert parts.birth_date == date(1998, 3, 5)


def test_date_part_adds_40_to_the_day_for_women_only() -> None:
    assert nik_date_part(date(1998, 3, 5), 2) == "450398"
    assert nik_date_part(date(1998, 3, 5), 1) == "050398"
    assert nik_date_part(date(2004, 2, 29), 2) == "690204"


def test_same_date_for_a_man_is_valid_and_decodes_male() -> None:
    result = check("6104160503980001", birth_date=date(1998, 3, 5), sex=1)
    assert result.valid and result.parts.sex == 1


@pytest.mark.parametrize(("nik", "sex"), [("6104164503980001", 1), ("6104160503980001", 2)])
def test_sex_not_matching_the_day_encoding(nik: str, sex: int) -> None:
    result = check(nik, birth_date=date(1998, 3, 5), sex=sex)
    assert result.error_codes == ("nik_sex_mismatch",)


def test_birth_date_mismatch() -> None:
    assert check("6104164503980001", birth_date=date(1998, 3, 6), sex=2).error_codes == (
        "nik_birth_date_mismatch",
    )
    assert check("6104164503980001", birth_date=date(1998, 4, 5), sex=2).error_codes == (
        "nik_birth_date_mismatch",
    )
    assert check("6104164503980001", birth_date=date(1999, 3, 5), sex=2).error_codes == (
        "nik_birth_date_mismatch",
    )


@pytest.mark.parametrize(
    ("date_part", "valid", "sex", "day"),
    [
        ("010198", True, 1, 1),
        ("310198", True, 1, 31),
        ("320198", False, None, None),
        ("400198", False, None, None),
        ("410198", True, 2, 1),
        ("710198", True, 2, 31),
        ("720198", False, None, None),
        ("000198", False, None, None),
        ("710498", False, None, None),  # a woman's 31 April
        ("700498", True, 2, 30),
        ("011398", False, None, None),  # month 13
        ("010098", False, None, None),  # month 0
    ],
)
def test_day_plus_40_boundaries(date_part: str, valid: bool, sex: int | None, day) -> None:
    result = check(f"610416{date_part}0001")
    assert result.valid is valid
    if valid:
        assert (result.parts.sex, result.parts.day) == (sex, day)
    else:
        assert result.error_codes == ("nik_date_invalid",)


def test_leap_day() -> None:
    woman_2004 = check("6104166902040001", birth_date=date(2004, 2, 29), sex=2)
    assert woman_2004.valid
    # 2000 is a leap year (divisible by 400)
    assert check("6104162902000001").parts.birth_date == date(2000, 2, 29)
    # neither 2001 nor 1901 has a 29 February
    assert check("6104166902010001").error_codes == ("nik_date_invalid",)


def test_century_is_the_latest_one_not_in_the_future() -> None:
    assert parse_nik("6104160503980001", TODAY).birth_date == date(1998, 3, 5)
    assert parse_nik("6104160503200001", TODAY).birth_date == date(2020, 3, 5)
    assert parse_nik("6104160206250001", TODAY).birth_date == date(2025, 6, 2)
    assert parse_nik("6104160306250001", TODAY).birth_date == date(1925, 6, 3)


def test_a_given_birth_date_settles_the_century() -> None:
    result = check("6104160306250001", birth_date=date(1925, 6, 3), sex=1)
    assert result.valid and result.parts.birth_date == date(1925, 6, 3)


def test_unknown_province_is_an_error() -> None:
    result = check("9904164503980001")
    assert result.error_codes == ("nik_province_unknown",)
    assert "99" in result.errors[0].message["en"] and "99" in result.errors[0].message["id"]


def test_district_not_in_todays_list_is_only_a_warning() -> None:
    # 61.04.05 is not in the list (say it moved to a new regency): numbers keep it.
    result = check("6104054503980001", birth_date=date(1998, 3, 5), sex=2)
    assert result.valid
    assert result.warning_codes == ("nik_district_unknown",)
    assert "61.04.05" in result.warnings[0].message["id"]
    assert "61.04.05" in result.warnings[0].message["en"]


def test_district_check_skipped_without_a_district_list() -> None:
    result = validate_nik("6104054503980001", today=TODAY, known_provinces=PROVINCES)
    assert result.valid and result.warnings == ()


def test_region_lists_may_be_given_with_or_without_dots() -> None:
    result = validate_nik(
        "6104164503980001",
        today=TODAY,
        known_provinces={"61"},
        known_districts={"610416"},
    )
    assert result.valid and result.warnings == ()


@pytest.mark.parametrize(
    ("nik", "codes"),
    [
        ("61041645O3980001", ("nik_not_digits",)),
        ("610416450398000", ("nik_wrong_length",)),
        ("61041645039800011", ("nik_wrong_length",)),
        ("6104-16-450398-01", ("nik_not_digits", "nik_wrong_length")),
        ("", ("nik_not_digits", "nik_wrong_length")),
        ("６１０４１６４５０３９８０００１", ("nik_not_digits",)),  # full-width digits
    ],
)
def test_letters_and_length(nik: str, codes: tuple[str, ...]) -> None:
    result = check(nik)
    assert result.error_codes == codes
    assert result.parts is None


def test_surrounding_spaces_are_tolerated() -> None:
    assert check("  6104164503980001 ").valid


def test_serial_starts_at_0001() -> None:
    assert check("6104164503980000").error_codes == ("nik_serial_zero",)
    assert check("6104164503989999").valid


def test_zero_regency_or_district() -> None:
    assert check("6100164503980001").error_codes == ("nik_regency_invalid",)
    assert check("6104004503980001").error_codes == ("nik_district_invalid",)


def test_several_errors_are_reported_together() -> None:
    result = check("9904163502980000")
    assert set(result.error_codes) == {
        "nik_province_unknown",
        "nik_serial_zero",
        "nik_date_invalid",
    }


def test_messages_exist_in_both_languages() -> None:
    result = check("9904163502980000", birth_date=date(1998, 3, 5), sex=2)
    for found in result.errors:
        assert set(found.message) == {"id", "en"}
        assert all(found.message.values())


# --- KK ----------------------------------------------------------------------------------


def test_kk_number_with_issue_date() -> None:
    result = check_kk("6104160101150003")
    assert result.valid
    assert result.parts.issue_date == date(2015, 1, 1)
    assert result.parts.serial == 3


def test_kk_date_part_has_no_plus_40() -> None:
    assert check_kk("6104164501150001").error_codes == ("kk_issue_date_invalid",)
    assert check_kk("6104163002150001").error_codes == ("kk_issue_date_invalid",)


def test_kk_issue_date_cannot_be_in_the_future() -> None:
    assert check_kk("6104161506250001").error_codes == ("kk_issue_date_in_future",)
    issued_today = check_kk("6104161506250001", today=date(2025, 6, 15))
    assert issued_today.valid and issued_today.parts.issue_date == date(2025, 6, 15)


def test_kk_old_issue_dates_and_the_earliest_year_setting() -> None:
    assert check_kk("6104160101850001").parts.issue_date == date(1985, 1, 1)
    # 1965 is before the default earliest issue year and 2065 lies ahead
    assert check_kk("6104160101650001").error_codes == ("kk_issue_date_in_future",)
    earlier = check_kk("6104160101650001", earliest_issue_year=1960)
    assert earlier.valid and earlier.parts.issue_date == date(1965, 1, 1)


def test_kk_region_serial_and_form() -> None:
    assert check_kk("9904160101150003").error_codes == ("kk_province_unknown",)
    district = check_kk("6104050101150003")
    assert district.valid and district.warning_codes == ("kk_district_unknown",)
    assert check_kk("6104160101150000").error_codes == ("kk_serial_zero",)
    assert check_kk("61041601011500").error_codes == ("kk_wrong_length",)
    assert check_kk("610416010115000X").error_codes == ("kk_not_digits",)


# --- provisional ids ---------------------------------------------------------------------


def test_provisional_id_encodes_128_bits_in_crockford_base32() -> None:
    assert new_provisional_id(uuid.UUID(int=0)) == "P-" + "0" * 26
    assert new_provisional_id(uuid.UUID(int=32)) == "P-" + "0" * 24 + "10"
    assert new_provisional_id(uuid.UUID(int=2**128 - 1)) == "P-7" + "Z" * 25


def test_provisional_ids_are_recognised_and_never_nik_shaped() -> None:
    ids = {new_provisional_id() for _ in range(50)}
    assert len(ids) == 50
    for pid in ids:
        assert is_provisional_id(pid)
        assert not is_nik_shaped(pid)
        assert not check(pid).valid
    assert not is_provisional_id("6104164503980001")
    assert is_nik_shaped("6104164503980001")


@pytest.mark.parametrize(
    "text",
    [
        "P-" + "0" * 25,
        "P-" + "0" * 27,
        "P-8" + "0" * 25,  # more than 128 bits
        "p-" + "0" * 26,
        "P-" + "0" * 25 + "U",  # U is not in Crockford's alphabet
        "X-" + "0" * 26,
    ],
)
def test_not_provisional(text: str) -> None:
    assert not is_provisional_id(text)
