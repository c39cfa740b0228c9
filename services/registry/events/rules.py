"""Life events of a person and the rules for recording them.

A pregnancy starts on its first day (HPHT, the last menstrual period) and is closed by
an outcome with its date; live birth and stillbirth are deliveries, which open the
42-day postpartum period. A delivery can also be recorded on its own (a birth whose
pregnancy was never registered).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from services.registry.codelists import (
    CONTRACEPTION_METHOD,
    FEMALE,
    PREGNANCY_OUTCOME,
)
from services.registry.persons.rules import (
    Issue,
    PersonFacts,
    ValidationResult,
    check_not_deceased,
    completed_years,
    issue,
    result,
)

MAX_GESTATION = timedelta(weeks=45)
# Below 20 weeks Indonesian obstetric practice calls the loss an abortus, not a birth.
MIN_DELIVERY_GESTATION = timedelta(weeks=20)
PREGNANCY_AGE_RANGE = (10, 55)
FEMALE_REPRODUCTIVE_AGE = (15, 49)
MALE_MIN_REPRODUCTIVE_AGE = 15
LEGAL_MARRIAGE_AGE = 19  # UU 16/2019, for brides and grooms alike


@dataclass(frozen=True)
class Pregnancy:
    start_date: date
    expected_delivery_date: date | None = None
    outcome: str | None = None
    outcome_date: date | None = None

    @property
    def is_open(self) -> bool:
        """No outcome recorded yet."""
        return self.outcome_date is None

    def pregnant_on(self, on: date) -> bool:
        """Pregnant on ``on``; without an outcome, at most 45 weeks from the start."""
        if on < self.start_date:
            return False
        if self.outcome_date is not None:
            return on < self.outcome_date
        return on <= self.start_date + MAX_GESTATION

    @property
    def delivery_date(self) -> date | None:
        entry = PREGNANCY_OUTCOME.get(self.outcome)
        return self.outcome_date if entry is not None and entry.is_delivery else None


@dataclass(frozen=True)
class Delivery:
    delivery_date: date
    outcome: str = "live_birth"


@dataclass(frozen=True)
class MarriagePlan:
    planned_date: date


@dataclass(frozen=True)
class ContraceptionUse:
    method: str
    start_date: date
    end_date: date | None = None

    def in_use_on(self, on: date) -> bool:
        return self.start_date <= on and (self.end_date is None or on <= self.end_date)


@dataclass(frozen=True)
class LifeEvents:
    pregnancies: tuple[Pregnancy, ...] = ()
    deliveries: tuple[Delivery, ...] = ()
    marriage_plans: tuple[MarriagePlan, ...] = ()
    contraception: tuple[ContraceptionUse, ...] = ()

    def delivery_dates(self) -> list[date]:
        """Every delivery, from pregnancy outcomes and stand-alone records, once each."""
        dates = {p.delivery_date for p in self.pregnancies if p.delivery_date is not None}
        dates.update(d.delivery_date for d in self.deliveries if _is_delivery(d.outcome))
        return sorted(dates)

    def pregnancy_on(self, on: date) -> Pregnancy | None:
        return next((p for p in self.pregnancies if p.pregnant_on(on)), None)

    def contraception_on(self, on: date) -> tuple[ContraceptionUse, ...]:
        return tuple(use for use in self.contraception if use.in_use_on(on))


def _is_delivery(outcome: str) -> bool:
    entry = PREGNANCY_OUTCOME.get(outcome)
    return entry is not None and entry.is_delivery


def _age_between(person: PersonFacts, on: date, low: int, high: int | None) -> bool:
    if on < person.birth_date:
        return False
    age = completed_years(person.birth_date, on)
    return age >= low and (high is None or age <= high)


def _not_female(kind: str) -> Issue:
    return issue(
        f"{kind}_not_female",
        "Hanya dapat dicatat untuk perempuan.",
        "Can only be recorded for a woman.",
        "person",
    )


def _in_future(code: str, field: str) -> Issue:
    return issue(
        code, "Tanggal tidak boleh di masa depan.", "The date cannot be in the future.", field
    )


def _childbearing_age_issue(person: PersonFacts, on: date, code: str, field: str) -> Issue | None:
    low, high = PREGNANCY_AGE_RANGE
    if _age_between(person, on, low, high):
        return None
    return issue(
        code,
        f"Usia ibu pada tanggal tersebut harus {low}–{high} tahun.",
        f"The woman must be aged {low}–{high} on that date.",
        field,
    )


def _outcome_issues(pregnancy: Pregnancy, today: date) -> tuple[list[Issue], list[Issue]]:
    errors: list[Issue] = []
    warnings: list[Issue] = []
    if (pregnancy.outcome is None) != (pregnancy.outcome_date is None):
        errors.append(
            issue(
                "outcome_incomplete",
                "Hasil kehamilan dan tanggalnya harus diisi bersama.",
                "A pregnancy outcome needs both its kind and its date.",
                "outcome",
            )
        )
    if pregnancy.outcome is not None and PREGNANCY_OUTCOME.get(pregnancy.outcome) is None:
        errors.append(
            issue(
                "outcome_unknown",
                "Jenis hasil kehamilan tidak dikenal.",
                "Unknown pregnancy outcome.",
                "outcome",
            )
        )
    end = pregnancy.outcome_date
    if end is None:
        return errors, warnings
    if end < pregnancy.start_date:
        errors.append(
            issue(
                "outcome_before_start",
                "Tanggal hasil kehamilan tidak boleh sebelum awal kehamilan.",
                "The outcome date cannot be before the start of the pregnancy.",
                "outcome_date",
            )
        )
    elif end > pregnancy.start_date + MAX_GESTATION:
        errors.append(
            issue(
                "outcome_too_late",
                "Tanggal hasil kehamilan lebih dari 45 minggu setelah awal kehamilan.",
                "The outcome date is more than 45 weeks after the start of the pregnancy.",
                "outcome_date",
            )
        )
    elif (
        pregnancy.outcome is not None
        and _is_delivery(pregnancy.outcome)
        and end - pregnancy.start_date < MIN_DELIVERY_GESTATION
    ):
        warnings.append(
            issue(
                "outcome_gestation_short",
                "Persalinan sebelum usia kehamilan 20 minggu biasanya dicatat sebagai keguguran.",
                "A delivery before 20 weeks of gestation is usually recorded as a miscarriage.",
                "outcome",
            )
        )
    if end > today:
        errors.append(_in_future("outcome_in_future", "outcome_date"))
    return errors, warnings


def _overlap_issue(pregnancy: Pregnancy, others: Sequence[Pregnancy]) -> Issue | None:
    for other in others:
        if pregnancy.is_open and other.is_open:
            return issue(
                "pregnancy_already_open",
                "Masih ada kehamilan yang belum dicatat hasilnya; catat hasilnya dulu.",
                "Another pregnancy has no outcome yet; record its outcome first.",
                "start_date",
            )
        this_end = pregnancy.outcome_date or date.max
        other_end = other.outcome_date or date.max
        if pregnancy.start_date < other_end and other.start_date < this_end:
            return issue(
                "pregnancy_overlaps",
                "Kehamilan ini tumpang tindih dengan kehamilan lain yang tercatat.",
                "This pregnancy overlaps another recorded pregnancy.",
                "start_date",
            )
    return None


def validate_pregnancy(
    person: PersonFacts,
    pregnancy: Pregnancy,
    others: Sequence[Pregnancy],
    today: date,
) -> ValidationResult:
    """Check a new or edited pregnancy; ``others`` are her other pregnancies, not this one."""
    errors: list[Issue | None] = []
    if person.sex != FEMALE:
        errors.append(_not_female("pregnancy"))
    errors.append(
        _childbearing_age_issue(
            person, pregnancy.start_date, "pregnancy_age_out_of_range", "start_date"
        )
    )
    if pregnancy.start_date > today:
        errors.append(_in_future("pregnancy_start_in_future", "start_date"))
    edd = pregnancy.expected_delivery_date
    if edd is not None and edd <= pregnancy.start_date:
        errors.append(
            issue(
                "edd_not_after_start",
                "Taksiran persalinan harus sesudah awal kehamilan.",
                "The expected delivery date must be after the start of the pregnancy.",
                "expected_delivery_date",
            )
        )
    elif edd is not None and edd > pregnancy.start_date + MAX_GESTATION:
        errors.append(
            issue(
                "edd_too_late",
                "Taksiran persalinan lebih dari 45 minggu setelah awal kehamilan.",
                "The expected delivery date is more than 45 weeks after the start.",
                "expected_delivery_date",
            )
        )
    outcome_errors, warnings = _outcome_issues(pregnancy, today)
    errors.extend(outcome_errors)
    errors.append(check_not_deceased(person, pregnancy.outcome_date or pregnancy.start_date))
    errors.append(_overlap_issue(pregnancy, others))
    return result(errors, warnings)


def validate_delivery(person: PersonFacts, delivery: Delivery, today: date) -> ValidationResult:
    errors: list[Issue | None] = []
    if person.sex != FEMALE:
        errors.append(_not_female("delivery"))
    if not _is_delivery(delivery.outcome):
        errors.append(
            issue(
                "delivery_outcome_invalid",
                "Persalinan hanya lahir hidup atau lahir mati.",
                "A delivery is a live birth or a stillbirth.",
                "outcome",
            )
        )
    errors.append(
        _childbearing_age_issue(
            person, delivery.delivery_date, "delivery_age_out_of_range", "delivery_date"
        )
    )
    if delivery.delivery_date > today:
        errors.append(_in_future("delivery_in_future", "delivery_date"))
    errors.append(check_not_deceased(person, delivery.delivery_date))
    return result(errors)


def validate_marriage_plan(
    person: PersonFacts, plan: MarriagePlan, today: date
) -> ValidationResult:
    errors: list[Issue | None] = [check_not_deceased(person)]
    warnings: list[Issue | None] = []
    if plan.planned_date < today:
        errors.append(
            issue(
                "marriage_date_in_past",
                "Rencana tanggal menikah sudah lewat.",
                "The planned marriage date has passed.",
                "planned_date",
            )
        )
    if plan.planned_date < person.birth_date:
        errors.append(
            issue(
                "marriage_before_birth",
                "Rencana tanggal menikah sebelum tanggal lahir.",
                "The planned marriage date is before the birth date.",
                "planned_date",
            )
        )
    elif completed_years(person.birth_date, plan.planned_date) < LEGAL_MARRIAGE_AGE:
        warnings.append(
            issue(
                "below_legal_marriage_age",
                f"Usia saat menikah di bawah {LEGAL_MARRIAGE_AGE} tahun: perlu dispensasi "
                "pengadilan (UU 16/2019).",
                f"Under {LEGAL_MARRIAGE_AGE} at the marriage: a court dispensation is needed "
                "(UU 16/2019).",
                "planned_date",
            )
        )
    if person.married_on(today):
        # Indonesian marriage law lets only a man marry again while married (with a
        # court's permission), so a married woman cannot plan another marriage.
        (errors if person.sex == FEMALE else warnings).append(
            issue(
                "already_married",
                "Orang ini berstatus kawin.",
                "This person is currently married.",
                "marital_status",
            )
        )
    return result(errors, warnings)


def validate_contraception(
    person: PersonFacts, use: ContraceptionUse, today: date
) -> ValidationResult:
    """Contraception is recorded for married people of reproductive age.

    Reproductive age is 15–49 for women; for men only the lower bound applies, since
    the programme counts a man's method (condom, vasectomy) for the couple.
    """
    errors: list[Issue | None] = []
    method = CONTRACEPTION_METHOD.get(use.method)
    if method is None:
        errors.append(
            issue(
                "contraception_method_unknown",
                "Metode kontrasepsi tidak dikenal.",
                "Unknown contraception method.",
                "method",
            )
        )
    elif method.user_sex is not None and method.user_sex != person.sex:
        errors.append(
            issue(
                "contraception_method_sex",
                "Metode kontrasepsi ini tidak untuk jenis kelamin orang ini.",
                "This contraception method is not used by a person of this sex.",
                "method",
            )
        )
    if person.sex == FEMALE:
        low, high = FEMALE_REPRODUCTIVE_AGE
    else:
        low, high = MALE_MIN_REPRODUCTIVE_AGE, None
    if not _age_between(person, use.start_date, low, high):
        errors.append(
            issue(
                "contraception_age_out_of_range",
                "Kontrasepsi hanya dicatat untuk usia subur.",
                "Contraception is recorded only for people of reproductive age.",
                "start_date",
            )
        )
    if not person.married_on(use.start_date):
        errors.append(
            issue(
                "contraception_not_married",
                "Kontrasepsi hanya dicatat untuk orang yang berstatus kawin.",
                "Contraception is recorded only for married people.",
                "person",
            )
        )
    if use.start_date > today:
        errors.append(_in_future("contraception_start_in_future", "start_date"))
    if use.end_date is not None and use.end_date < use.start_date:
        errors.append(
            issue(
                "contraception_end_before_start",
                "Tanggal berhenti tidak boleh sebelum tanggal mulai.",
                "The end date cannot be before the start date.",
                "end_date",
            )
        )
    errors.append(check_not_deceased(person, use.start_date))
    return result(errors)
