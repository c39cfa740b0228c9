"""Person-level rules: dates of birth and death, ages, and the shared validation result.

Ages use calendar anniversaries: a person is n months old from the same day of the
month n months after birth, or from the last day of that month when it is shorter (born
31 January: one month old on 28/29 February; born 29 February: one year old on
28 February of a common year). Every age window in the registry is built on
:func:`add_months`, so boundaries agree everywhere.
"""

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from services.registry.codelists import FEMALE, MARITAL_STATUS, MARRIED, SEX

MIN_MOTHER_AGE_YEARS = 10

Message = dict[str, str]


@dataclass(frozen=True)
class Issue:
    """One validation finding: a stable machine code and a message in id and en."""

    code: str
    message: Message
    field: str | None = None


@dataclass(frozen=True)
class ValidationResult:
    errors: tuple[Issue, ...] = ()
    warnings: tuple[Issue, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.errors

    @property
    def error_codes(self) -> tuple[str, ...]:
        return tuple(issue.code for issue in self.errors)

    @property
    def warning_codes(self) -> tuple[str, ...]:
        return tuple(issue.code for issue in self.warnings)

    def merged(self, other: "ValidationResult") -> "ValidationResult":
        return ValidationResult(self.errors + other.errors, self.warnings + other.warnings)


def issue(code: str, id_text: str, en_text: str, field: str | None = None) -> Issue:
    return Issue(code=code, message={"id": id_text, "en": en_text}, field=field)


def result(
    errors: Iterable[Issue | None] = (), warnings: Iterable[Issue | None] = ()
) -> ValidationResult:
    """Build a result from checks that yield an Issue or None."""
    return ValidationResult(
        errors=tuple(e for e in errors if e is not None),
        warnings=tuple(w for w in warnings if w is not None),
    )


@dataclass(frozen=True)
class PersonFacts:
    """What the rules need to know about a person.

    ``marital_status`` is the current SIAK code; ``marital_status_since`` when known.
    The current status is taken to hold on any date from ``marital_status_since`` on,
    or on every date when that is unknown (the registry keeps no marital history).
    """

    birth_date: date
    sex: int
    marital_status: int | None = None
    marital_status_since: date | None = None
    death_date: date | None = None

    def alive_on(self, on: date) -> bool:
        return self.birth_date <= on and (self.death_date is None or on < self.death_date)

    def married_on(self, on: date) -> bool:
        if self.marital_status != MARRIED:
            return False
        return self.marital_status_since is None or self.marital_status_since <= on


# --- calendar arithmetic -------------------------------------------------------------


def add_months(start: date, months: int) -> date:
    """Same day ``months`` later (or earlier), clamped to the end of a shorter month."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def add_years(start: date, years: int) -> date:
    return add_months(start, 12 * years)


def completed_months(birth: date, on: date) -> int:
    if on < birth:
        raise ValueError(f"{on} is before birth {birth}")
    months = (on.year - birth.year) * 12 + on.month - birth.month
    if add_months(birth, months) > on:
        months -= 1
    return months


def completed_years(birth: date, on: date) -> int:
    return completed_months(birth, on) // 12


def age_in_days(birth: date, on: date) -> int:
    if on < birth:
        raise ValueError(f"{on} is before birth {birth}")
    return (on - birth).days


@dataclass(frozen=True)
class Age:
    years: int
    months: int
    days: int


def age_on(birth: date, on: date) -> Age:
    """Completed years, then completed months and days since the last anniversary."""
    total_months = completed_months(birth, on)
    days = (on - add_months(birth, total_months)).days
    return Age(years=total_months // 12, months=total_months % 12, days=days)


# --- validations -----------------------------------------------------------------------


def check_birth_date(birth_date: date, today: date) -> Issue | None:
    if birth_date > today:
        return issue(
            "birth_date_in_future",
            "Tanggal lahir tidak boleh di masa depan.",
            "Birth date cannot be in the future.",
            "birth_date",
        )
    return None


def check_death_date(birth_date: date, death_date: date | None, today: date) -> list[Issue]:
    if death_date is None:
        return []
    found = []
    if death_date < birth_date:
        found.append(
            issue(
                "death_before_birth",
                "Tanggal kematian tidak boleh sebelum tanggal lahir.",
                "Death date cannot be before the birth date.",
                "death_date",
            )
        )
    if death_date > today:
        found.append(
            issue(
                "death_date_in_future",
                "Tanggal kematian tidak boleh di masa depan.",
                "Death date cannot be in the future.",
                "death_date",
            )
        )
    return found


def check_codes(sex: int, marital_status: int | None) -> list[Issue]:
    found = []
    if SEX.get(sex) is None:
        found.append(
            issue("sex_unknown", "Jenis kelamin tidak dikenal.", "Unknown sex code.", "sex")
        )
    if marital_status is not None and MARITAL_STATUS.get(marital_status) is None:
        found.append(
            issue(
                "marital_status_unknown",
                "Status perkawinan tidak dikenal.",
                "Unknown marital status code.",
                "marital_status",
            )
        )
    return found


def validate_person(person: PersonFacts, today: date) -> ValidationResult:
    """Checks that hold for any person record on its own."""
    return result(
        errors=[
            check_birth_date(person.birth_date, today),
            *check_death_date(person.birth_date, person.death_date, today),
            *check_codes(person.sex, person.marital_status),
        ]
    )


def check_mother_age(mother_birth: date, child_birth: date) -> Issue | None:
    """A mother must have been at least 10 years old at the child's birth."""
    if child_birth < mother_birth or completed_years(mother_birth, child_birth) < (
        MIN_MOTHER_AGE_YEARS
    ):
        return issue(
            "mother_too_young",
            f"Ibu harus berusia minimal {MIN_MOTHER_AGE_YEARS} tahun saat anak lahir.",
            f"The mother must be at least {MIN_MOTHER_AGE_YEARS} years old at the child's birth.",
            "mother",
        )
    return None


def check_mother(mother: PersonFacts, child_birth: date) -> list[Issue]:
    found = []
    if mother.sex != FEMALE:
        found.append(
            issue(
                "mother_not_female",
                "Ibu harus berjenis kelamin perempuan.",
                "The mother must be female.",
                "mother",
            )
        )
    found.append(check_mother_age(mother.birth_date, child_birth))
    if mother.death_date is not None and mother.death_date < child_birth:
        found.append(
            issue(
                "mother_died_before_birth",
                "Ibu meninggal sebelum anak lahir.",
                "The mother died before the child's birth.",
                "mother",
            )
        )
    return [f for f in found if f is not None]


def check_not_deceased(person: PersonFacts, on: date | None = None) -> Issue | None:
    """Refuses a change to a deceased person.

    With ``on`` (the date of a life event) only events after the death are refused, so
    a delivery preceding a maternal death stays recordable; without it (a move, an
    edit of residence) any recorded death refuses the change.
    """
    if person.death_date is None or (on is not None and on <= person.death_date):
        return None
    return issue(
        "person_deceased",
        "Orang ini sudah meninggal; perubahan tidak dapat dicatat.",
        "This person is deceased; the change cannot be recorded.",
    )


def validate_move(person: PersonFacts) -> ValidationResult:
    return result(errors=[check_not_deceased(person)])
