"""NIK and KK numbers (Dukcapil) and the provisional id of people without a NIK.

Both numbers are ``PPKKCC DDMMYY SSSS``: the issuing district (Kemendagri code without
dots), a date, and a serial from 0001. The NIK date is the birth date with 40 added to
the day for women; the KK date is the issue date. Numbers keep the district of issue
for life, so after a regency is split or renumbered a valid number can carry a district
code that today's list lacks: the province is checked strictly, the district only warns.

Region knowledge comes in as parameters (codes with or without dots), so the rules stay
free of I/O.
"""

import re
import uuid
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date

from common.ids import uuid7
from services.registry.codelists import FEMALE, MALE
from services.registry.persons.rules import Issue, ValidationResult, issue

NUMBER_LENGTH = 16
FEMALE_DAY_OFFSET = 40
# Two-digit KK issue years are read in the latest century that is not in the future
# and not before this year; settable because the oldest numbers in circulation vary.
KK_EARLIEST_ISSUE_YEAR = 1970

PROVISIONAL_PREFIX = "P-"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# A NIK is digits only, so the "P-" prefix alone keeps the two apart.
_PROVISIONAL_RE = re.compile(r"P-[0-7][0-9A-HJKMNP-TV-Z]{25}")


@dataclass(frozen=True)
class RegionParts:
    province_code: str  # "61"
    regency_code: str  # "6104"
    district_code: str  # "610416"

    @property
    def district_dotted(self) -> str:
        code = self.district_code
        return f"{code[:2]}.{code[2:4]}.{code[4:]}"


@dataclass(frozen=True)
class NikParts(RegionParts):
    day: int  # the birth day, with the 40 for women already taken off
    month: int
    year_2: int
    sex: int
    serial: int
    birth_date: date | None  # century resolved; None when the date part is not a date


@dataclass(frozen=True)
class KkParts(RegionParts):
    issue_date: date | None
    serial: int


@dataclass(frozen=True)
class NikCheck(ValidationResult):
    parts: NikParts | None = None


@dataclass(frozen=True)
class KkCheck(ValidationResult):
    parts: KkParts | None = None


def _region_key(code: str) -> str:
    return code.replace(".", "").strip()


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _latest_century_date(
    year_2: int, month: int, day: int, today: date, earliest_year: int = 1
) -> date | None:
    for century in (2000, 1900):
        found = _safe_date(century + year_2, month, day)
        if found is not None and found <= today and found.year >= earliest_year:
            return found
    return None


def _format_issues(number: str, kind: str) -> list[Issue]:
    label = kind.upper()
    found = []
    if not number.isdigit() or not number.isascii():
        found.append(
            issue(
                f"{kind}_not_digits",
                f"{label} hanya boleh berisi angka.",
                f"A {label} number may contain digits only.",
                kind,
            )
        )
    if len(number) != NUMBER_LENGTH:
        found.append(
            issue(
                f"{kind}_wrong_length",
                f"{label} harus {NUMBER_LENGTH} digit (tertulis {len(number)}).",
                f"A {label} number has {NUMBER_LENGTH} digits (this one has {len(number)}).",
                kind,
            )
        )
    return found


def _region_issues(
    parts: RegionParts,
    kind: str,
    known_provinces: Collection[str],
    known_districts: Collection[str] | None,
) -> tuple[list[Issue], list[Issue]]:
    label = kind.upper()
    errors: list[Issue] = []
    warnings: list[Issue] = []
    provinces = {_region_key(code) for code in known_provinces}
    if parts.province_code not in provinces:
        errors.append(
            issue(
                f"{kind}_province_unknown",
                f"Kode provinsi {parts.province_code} pada {label} tidak dikenal.",
                f"Province code {parts.province_code} in the {label} does not exist.",
                kind,
            )
        )
    if parts.regency_code.endswith("00"):
        errors.append(
            issue(
                f"{kind}_regency_invalid",
                f"Kode kabupaten/kota pada {label} tidak boleh 00.",
                f"The regency part of the {label} cannot be 00.",
                kind,
            )
        )
    if parts.district_code.endswith("00"):
        errors.append(
            issue(
                f"{kind}_district_invalid",
                f"Kode kecamatan pada {label} tidak boleh 00.",
                f"The district part of the {label} cannot be 00.",
                kind,
            )
        )
    if (
        not errors
        and known_districts is not None
        and parts.district_code not in {_region_key(code) for code in known_districts}
    ):
        code = parts.district_dotted
        warnings.append(
            issue(
                f"{kind}_district_unknown",
                f"Kode kecamatan {code} tidak ada dalam daftar wilayah saat ini; diterima "
                "karena nomor tetap memakai kecamatan penerbitnya (pemekaran wilayah).",
                f"District code {code} is not in today's region list; accepted because "
                "numbers keep the district of issue after regions are split.",
                kind,
            )
        )
    return errors, warnings


def _serial_issue(serial: int, kind: str) -> Issue | None:
    if serial != 0:
        return None
    label = kind.upper()
    return issue(
        f"{kind}_serial_zero",
        f"Nomor urut {label} dimulai dari 0001.",
        f"The {label} serial starts at 0001.",
        kind,
    )


def parse_nik(nik: str, today: date) -> NikParts | None:
    """Split a 16-digit NIK; None when it is not 16 digits. The date may still be bad."""
    nik = nik.strip()
    if len(nik) != NUMBER_LENGTH or not (nik.isdigit() and nik.isascii()):
        return None
    raw_day, month, year_2 = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    sex = FEMALE if raw_day > FEMALE_DAY_OFFSET else MALE
    day = raw_day - FEMALE_DAY_OFFSET if sex == FEMALE else raw_day
    return NikParts(
        province_code=nik[:2],
        regency_code=nik[:4],
        district_code=nik[:6],
        day=day,
        month=month,
        year_2=year_2,
        sex=sex,
        serial=int(nik[12:]),
        birth_date=_latest_century_date(year_2, month, day, today),
    )


def parse_kk(
    kk_number: str, today: date, earliest_issue_year: int = KK_EARLIEST_ISSUE_YEAR
) -> KkParts | None:
    kk_number = kk_number.strip()
    if len(kk_number) != NUMBER_LENGTH or not (kk_number.isdigit() and kk_number.isascii()):
        return None
    day, month, year_2 = int(kk_number[6:8]), int(kk_number[8:10]), int(kk_number[10:12])
    return KkParts(
        province_code=kk_number[:2],
        regency_code=kk_number[:4],
        district_code=kk_number[:6],
        issue_date=_latest_century_date(year_2, month, day, today, earliest_issue_year),
        serial=int(kk_number[12:]),
    )


def validate_nik(
    nik: str,
    *,
    today: date,
    known_provinces: Collection[str],
    known_districts: Collection[str] | None = None,
    birth_date: date | None = None,
    sex: int | None = None,
) -> NikCheck:
    """Check a NIK's form, region and date part, and against the person when given.

    ``known_districts`` None skips the district check (no region list at hand).
    """
    nik = nik.strip()
    format_errors = _format_issues(nik, "nik")
    parts = parse_nik(nik, today) if not format_errors else None
    if parts is None:
        return NikCheck(errors=tuple(format_errors))
    errors, warnings = _region_issues(parts, "nik", known_provinces, known_districts)
    serial = _serial_issue(parts.serial, "nik")
    if serial:
        errors.append(serial)
    if parts.birth_date is None:
        errors.append(
            issue(
                "nik_date_invalid",
                "Bagian tanggal lahir pada NIK bukan tanggal yang sah (perempuan: tanggal + 40).",
                "The birth-date part of the NIK is not a valid date (women: day + 40).",
                "nik",
            )
        )
    elif birth_date is not None and (parts.day, parts.month, parts.year_2) == (
        birth_date.day,
        birth_date.month,
        birth_date.year % 100,
    ):
        # The person's own birth date settles the century the NIK leaves open.
        parts = replace(parts, birth_date=birth_date)
    elif birth_date is not None:
        errors.append(
            issue(
                "nik_birth_date_mismatch",
                f"Tanggal lahir pada NIK ({parts.day:02d}-{parts.month:02d}-{parts.year_2:02d}) "
                f"tidak sama dengan tanggal lahir {birth_date:%d-%m-%Y}.",
                f"The NIK's birth date ({parts.day:02d}-{parts.month:02d}-{parts.year_2:02d}) "
                f"does not match the birth date {birth_date:%d-%m-%Y}.",
                "birth_date",
            )
        )
    if parts.birth_date is not None and sex is not None and sex != parts.sex:
        errors.append(
            issue(
                "nik_sex_mismatch",
                "Jenis kelamin tidak sesuai dengan NIK (tanggal lahir perempuan ditambah 40).",
                "Sex does not match the NIK (for women the birth day has 40 added).",
                "sex",
            )
        )
    return NikCheck(errors=tuple(errors), warnings=tuple(warnings), parts=parts)


def validate_kk(
    kk_number: str,
    *,
    today: date,
    known_provinces: Collection[str],
    known_districts: Collection[str] | None = None,
    earliest_issue_year: int = KK_EARLIEST_ISSUE_YEAR,
) -> KkCheck:
    kk_number = kk_number.strip()
    format_errors = _format_issues(kk_number, "kk")
    parts = parse_kk(kk_number, today, earliest_issue_year) if not format_errors else None
    if parts is None:
        return KkCheck(errors=tuple(format_errors))
    errors, warnings = _region_issues(parts, "kk", known_provinces, known_districts)
    serial = _serial_issue(parts.serial, "kk")
    if serial:
        errors.append(serial)
    if parts.issue_date is None:
        day, month, year_2 = (int(kk_number[i : i + 2]) for i in (6, 8, 10))
        if _safe_date(2000 + year_2, month, day) is not None:
            errors.append(
                issue(
                    "kk_issue_date_in_future",
                    "Tanggal terbit pada nomor KK ada di masa depan.",
                    "The issue date in the KK number is in the future.",
                    "kk",
                )
            )
        else:
            errors.append(
                issue(
                    "kk_issue_date_invalid",
                    "Bagian tanggal terbit pada nomor KK bukan tanggal yang sah.",
                    "The issue-date part of the KK number is not a valid date.",
                    "kk",
                )
            )
    return KkCheck(errors=tuple(errors), warnings=tuple(warnings), parts=parts)


def nik_date_part(birth_date: date, sex: int) -> str:
    """The DDMMYY a NIK carries for this birth date and sex."""
    day = birth_date.day + (FEMALE_DAY_OFFSET if sex == FEMALE else 0)
    return f"{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}"


def new_provisional_id(source: uuid.UUID | None = None) -> str:
    """``P-`` and 26 Crockford base-32 characters of a UUIDv7 (time-ordered, like a ULID)."""
    value = int(source if source is not None else uuid7())
    chars = []
    for _ in range(26):
        value, remainder = divmod(value, 32)
        chars.append(_CROCKFORD[remainder])
    return PROVISIONAL_PREFIX + "".join(reversed(chars))


def is_provisional_id(text: str) -> bool:
    return _PROVISIONAL_RE.fullmatch(text) is not None


def is_nik_shaped(text: str) -> bool:
    return len(text) == NUMBER_LENGTH and text.isdigit() and text.isascii()
