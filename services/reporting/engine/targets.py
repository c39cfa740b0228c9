"""Who counts as a target of each intervention, for the coverage and convergence
denominators, in terms of reporting's own read models.

It mirrors version 1 of the interventions catalogue (Perpres 72/2021 annex, RAN-PASTI;
DOMAIN.md "Interventions"): the catalogue's eligibility rules are evaluated by the
interventions service on its own projection, which reporting must not read. A new
catalogue version with another target group needs a new entry (and indicator version)
here. Each spec has at most one condition that changes within a period (an age or a
target-group window), so "holds on some day of the period" is exact.
"""

from dataclasses import dataclass
from typing import Literal

SubjectKind = Literal["person", "household"]
GrowthCondition = Literal["severe_acute_malnutrition", "moderate_wasting"]

# LiLA (mid-upper-arm circumference) thresholds from the catalogue.
KEK_MUAC_CM = 23.5
SAM_MUAC_CM = 11.5


@dataclass(frozen=True)
class TargetSpec:
    """The targets of one intervention: every condition given must hold.

    ``groups``: a target-group window overlapping the period (any of them); for a
    household, a current member's window. ``age_months``/``age_years``: completed age
    within the inclusive range on some day of the period. ``krs``: the household's latest
    verification up to the end of the period found it KRS (with ``krs_criterion`` met).
    ``growth``: the person's latest measurement up to the end of the period shows it.
    ``welfare_decile``: the (person's) household decile within the range.
    """

    code: str
    subject: SubjectKind
    national_target_pct: float | None = None
    groups: tuple[str, ...] = ()
    age_months: tuple[int, int] | None = None
    age_years: tuple[int, int] | None = None
    female: bool = False
    krs: bool = False
    krs_criterion: str | None = None
    growth: GrowthCondition | None = None
    max_muac_cm: float | None = None
    welfare_decile: tuple[int, int] | None = None
    missing_documents: bool = False


TARGETS: dict[str, TargetSpec] = {
    spec.code: spec
    for spec in (
        TargetSpec("S1", "person", 90, groups=("ibu_hamil",), max_muac_cm=KEK_MUAC_CM),
        TargetSpec("S2", "person", 80, groups=("ibu_hamil",)),
        TargetSpec("S3", "person", 58, groups=("remaja_putri",)),
        TargetSpec("S4", "person", 80, age_months=(0, 5)),
        TargetSpec("S5", "person", 80, age_months=(6, 23)),
        TargetSpec("S6", "person", 90, age_months=(0, 59), growth="severe_acute_malnutrition"),
        TargetSpec("S7", "person", 90, age_months=(0, 59)),
        TargetSpec("S8", "person", 90, age_months=(0, 59), growth="moderate_wasting"),
        TargetSpec("S9", "person", 90, age_months=(0, 11)),
        TargetSpec("S10", "person", None, groups=("remaja_putri", "catin")),
        TargetSpec("S11", "person", None, groups=("ibu_hamil",)),
        TargetSpec("N1", "person", 70, groups=("ibu_pasca_persalinan",)),
        TargetSpec("N2", "household", 90, krs=True),
        TargetSpec("N3", "person", 90, groups=("catin",)),
        TargetSpec("N4", "person", 90, groups=("catin",)),
        TargetSpec("N5", "household", 100, krs=True, krs_criterion="unsafe_water"),
        TargetSpec("N6", "household", 90, krs=True, krs_criterion="unsafe_sanitation"),
        TargetSpec("N7", "household", None),
        TargetSpec("N8", "household", None, groups=("pus",), welfare_decile=(1, 4)),
        TargetSpec("N9", "household", None, groups=("pus",), welfare_decile=(1, 5)),
        TargetSpec("N10", "person", None, welfare_decile=(1, 5)),
        TargetSpec("N11", "person", None, age_years=(0, 17), missing_documents=True),
        TargetSpec("N12", "household", None, krs=True),
        TargetSpec("N13", "household", None, krs=True),
        TargetSpec("N14", "household", None, groups=("balita",)),
        TargetSpec("N15", "person", None, age_years=(3, 6)),
    )
}


def growth_terms(spec: TargetSpec) -> list[str]:
    """The spec's conditions on the latest measurement, as SQL over its columns
    ``class_wfl``, ``oedema`` and ``muac_cm``."""
    terms = []
    if spec.growth == "severe_acute_malnutrition":
        terms.append(f"(class_wfl = 'severely_wasted' OR oedema OR muac_cm < {SAM_MUAC_CM})")
    elif spec.growth == "moderate_wasting":
        terms.append("class_wfl = 'wasted'")
    if spec.max_muac_cm is not None:
        terms.append(f"muac_cm < {float(spec.max_muac_cm)}")
    return terms


# Every condition on the latest measurement that some target has: bit i of the
# growth_status read model's ``conditions`` is GROWTH_TERMS[i]. Changing a condition
# here means rebuilding the read models (kkb reporting rebuild).
GROWTH_TERMS: tuple[str, ...] = tuple(
    dict.fromkeys(t for s in TARGETS.values() for t in growth_terms(s))
)


def growth_mask(spec: TargetSpec) -> int:
    """The bits of growth_status.conditions that must all be set for ``spec``."""
    return sum(1 << GROWTH_TERMS.index(t) for t in growth_terms(spec))


def intervention_order(code: str) -> tuple[str, int]:
    """S2 before S11: the letters, then the number."""
    letters = code.rstrip("0123456789")
    digits = code[len(letters) :]
    return letters, int(digits) if digits else -1


# Target groups of the TPK coverage indicator: person windows, or KRS households.
TPK_PERSON_GROUPS = ("catin", "ibu_hamil", "ibu_pasca_persalinan", "baduta")
TPK_HOUSEHOLD_GROUP = "krs"
