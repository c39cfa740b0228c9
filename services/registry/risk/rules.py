"""Family stunting risk (Keluarga Risiko Stunting, KRS), BKKBN verification rules.

A target family (see :func:`target_family`) is KRS when one or more criteria of the rule
set in force hold. Rule sets are versioned with a validity period, because BKKBN revises
them; every assessment records the version that produced it and every criterion's value:
True, False, or None when the data needed is missing.

Decisions where the rules leave room:

* Wives are the women :func:`family_wives` returns (the head's wife or the female head,
  then other married or pregnant women of the household); "terlalu muda/tua" and low
  maternal education hold when they hold for any of them.
* Children are grouped by mother: a member's ``mother_id`` when known, otherwise
  children of the head (SHDK ANAK) count as the children of the head's couple. Other
  members without a known mother (a grandchild, a nephew) are left out, since their
  spacing says nothing about one woman's births.
* "Terlalu dekat": two consecutive births of one mother's children in the household
  less than 24 months apart, whatever their ages now; children who have died still
  count (the births happened); births a day apart or less are one delivery (twins).
  An open pregnancy is not a birth and does not count.
* "Terlalu banyak": more than 3 living children of one mother in the household, or a
  wife who reports more than 3 living children (some may live elsewhere).
"""

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from services.registry.codelists import (
    CHILD,
    HEAD,
    HOUSE_CONDITION,
    SANITATION,
    WATER_SOURCE,
    WIFE,
    CodeList,
    SafetyEntry,
)
from services.registry.events.target_groups import (
    HouseholdMember,
    TargetFamilyTest,
    family_wives,
    target_family,
)
from services.registry.persons.rules import add_months, completed_years


class Criterion(StrEnum):
    UNSAFE_WATER = "unsafe_water"
    UNSAFE_SANITATION = "unsafe_sanitation"
    TERLALU_MUDA = "terlalu_muda"
    TERLALU_TUA = "terlalu_tua"
    TERLALU_DEKAT = "terlalu_dekat"
    TERLALU_BANYAK = "terlalu_banyak"
    POOR_DECILE = "poor_decile"
    LOW_MATERNAL_EDUCATION = "low_maternal_education"
    SMOKER_IN_HOUSE = "smoker_in_house"
    UNFIT_HOUSING = "unfit_housing"


CRITERION_LABELS: dict[Criterion, dict[str, str]] = {
    Criterion.UNSAFE_WATER: {"id": "sumber air minum tidak layak", "en": "unsafe drinking water"},
    Criterion.UNSAFE_SANITATION: {"id": "jamban tidak layak", "en": "unsafe sanitation"},
    Criterion.TERLALU_MUDA: {
        "id": "terlalu muda (istri di bawah 20 tahun)",
        "en": "too young (wife under 20)",
    },
    Criterion.TERLALU_TUA: {
        "id": "terlalu tua (istri berusia 35–40 tahun)",
        "en": "too old (wife aged 35–40)",
    },
    Criterion.TERLALU_DEKAT: {
        "id": "terlalu dekat (jarak kelahiran anak kurang dari 24 bulan)",
        "en": "births too close (children born less than 24 months apart)",
    },
    Criterion.TERLALU_BANYAK: {
        "id": "terlalu banyak (lebih dari 3 anak)",
        "en": "too many children (more than 3)",
    },
    Criterion.POOR_DECILE: {
        "id": "keluarga miskin (desil kesejahteraan terendah)",
        "en": "poor family (lowest welfare deciles)",
    },
    Criterion.LOW_MATERNAL_EDUCATION: {
        "id": "pendidikan ibu rendah",
        "en": "low maternal education",
    },
    Criterion.SMOKER_IN_HOUSE: {"id": "ada perokok di rumah", "en": "a smoker in the house"},
    Criterion.UNFIT_HOUSING: {"id": "rumah tidak layak huni", "en": "house unfit for habitation"},
}

CONFIRMED_CRITERIA = frozenset(
    {
        Criterion.UNSAFE_WATER,
        Criterion.UNSAFE_SANITATION,
        Criterion.TERLALU_MUDA,
        Criterion.TERLALU_TUA,
        Criterion.TERLALU_DEKAT,
        Criterion.TERLALU_BANYAK,
    }
)


@dataclass(frozen=True)
class KrsRuleSet:
    """One version of the KRS rules; the thresholds of every criterion are data.

    ``valid_to`` is the last day of validity, None while in force. Criteria not in
    ``enabled`` are still computed and reported, but never make a family KRS.
    """

    version: str
    valid_from: date
    valid_to: date | None
    enabled: frozenset[Criterion]
    young_wife_under: int = 20
    old_wife_ages: tuple[int, int] = (35, 40)
    close_birth_months: int = 24
    many_children_over: int = 3
    poor_deciles: frozenset[int] = frozenset({1, 2})
    # Not finished junior secondary: SIAK education 1 none, 2 primary unfinished, 3 primary.
    low_education_codes: frozenset[int] = frozenset({1, 2, 3})

    def valid_on(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)


KRS_2024_1 = KrsRuleSet(
    version="krs-2024.1",
    valid_from=date(2024, 1, 1),
    valid_to=None,
    enabled=CONFIRMED_CRITERIA,
)
KRS_RULE_SETS: tuple[KrsRuleSet, ...] = (KRS_2024_1,)


def check_rule_sets(rule_sets: Sequence[KrsRuleSet]) -> None:
    """Refuse duplicate versions and overlapping validity periods."""
    versions = [rs.version for rs in rule_sets]
    if len(set(versions)) != len(versions):
        raise ValueError(f"duplicate KRS rule-set versions in {versions}")
    ordered = sorted(rule_sets, key=lambda rs: rs.valid_from)
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        if earlier.valid_to is None or earlier.valid_to >= later.valid_from:
            raise ValueError(f"KRS rule sets {earlier.version} and {later.version} overlap")


def rule_set_for(on: date, rule_sets: Sequence[KrsRuleSet] = KRS_RULE_SETS) -> KrsRuleSet:
    for rule_set in rule_sets:
        if rule_set.valid_on(on):
            return rule_set
    raise LookupError(f"no KRS rule set is valid on {on}")


@dataclass(frozen=True)
class HouseholdConditions:
    """Household answers; None where not asked or not known."""

    water_source: str | None = None
    sanitation: str | None = None
    house_condition: str | None = None
    welfare_decile: int | None = None
    smoker_in_house: bool | None = None


@dataclass(frozen=True)
class CriterionValue:
    criterion: Criterion
    enabled: bool
    value: bool | None

    @property
    def label(self) -> dict[str, str]:
        return CRITERION_LABELS[self.criterion]


@dataclass(frozen=True)
class KrsAssessment:
    as_of: date
    rule_set_version: str
    target_family: TargetFamilyTest
    is_krs: bool | None  # None: a target family, nothing met yet, and data missing
    criteria: tuple[CriterionValue, ...]
    reason: dict[str, str]

    @property
    def is_target_family(self) -> bool:
        return self.target_family.is_target_family

    @property
    def criteria_met(self) -> tuple[Criterion, ...]:
        return tuple(c.criterion for c in self.criteria if c.enabled and c.value)

    def value(self, criterion: Criterion) -> bool | None:
        return next(c.value for c in self.criteria if c.criterion == criterion)


# --- criteria --------------------------------------------------------------------------


def _unsafe(code: str | None, code_list: CodeList[SafetyEntry]) -> bool | None:
    entry = code_list.get(code)
    return None if entry is None else not entry.safe


def _any_known(values: Collection[bool | None]) -> bool | None:
    """True if any is True; False if all are known and False; None otherwise."""
    if any(v is True for v in values):
        return True
    return False if all(v is not None for v in values) else None


def _children_by_mother(
    members: Sequence[HouseholdMember], as_of: date
) -> dict[str, list[HouseholdMember]]:
    primary_wife = next(
        (m for m in family_wives(members, as_of) if m.relationship in (HEAD, WIFE)), None
    )
    head_couple = primary_wife.member_id if primary_wife else "head"
    groups: dict[str, list[HouseholdMember]] = defaultdict(list)
    for member in members:
        if member.person.birth_date > as_of:
            continue
        if member.mother_id is not None:
            groups[member.mother_id].append(member)
        elif member.relationship == CHILD:
            groups[head_couple].append(member)
    return groups


def _births_too_close(children: Sequence[HouseholdMember], months: int) -> bool:
    births = sorted(child.person.birth_date for child in children)
    for earlier, later in zip(births, births[1:], strict=False):
        if later - earlier > timedelta(days=1) and later < add_months(earlier, months):
            return True
    return False


def _criteria_values(
    rule_set: KrsRuleSet,
    conditions: HouseholdConditions,
    members: Sequence[HouseholdMember],
    as_of: date,
) -> dict[Criterion, bool | None]:
    wives = family_wives(members, as_of)
    wife_ages = [completed_years(w.person.birth_date, as_of) for w in wives]
    old_low, old_high = rule_set.old_wife_ages
    children = _children_by_mother(members, as_of)
    living_counts = [
        sum(1 for c in group if c.person.alive_on(as_of)) for group in children.values()
    ]
    reported = [w.living_children_reported or 0 for w in wives]
    education: list[bool | None] = [
        None if w.education is None else w.education in rule_set.low_education_codes for w in wives
    ]
    house = HOUSE_CONDITION.get(conditions.house_condition)
    decile = conditions.welfare_decile
    return {
        Criterion.UNSAFE_WATER: _unsafe(conditions.water_source, WATER_SOURCE),
        Criterion.UNSAFE_SANITATION: _unsafe(conditions.sanitation, SANITATION),
        Criterion.TERLALU_MUDA: any(age < rule_set.young_wife_under for age in wife_ages),
        Criterion.TERLALU_TUA: any(old_low <= age <= old_high for age in wife_ages),
        Criterion.TERLALU_DEKAT: any(
            _births_too_close(group, rule_set.close_birth_months) for group in children.values()
        ),
        Criterion.TERLALU_BANYAK: any(
            n > rule_set.many_children_over for n in [*living_counts, *reported]
        ),
        Criterion.POOR_DECILE: None if decile is None else decile in rule_set.poor_deciles,
        Criterion.LOW_MATERNAL_EDUCATION: _any_known(education),
        Criterion.SMOKER_IN_HOUSE: conditions.smoker_in_house,
        Criterion.UNFIT_HOUSING: None if house is None else house.code == "unfit",
    }


def _labels(criteria: Sequence[CriterionValue], lang: str) -> str:
    return "; ".join(c.label[lang] for c in criteria)


def reason_text(
    is_target: bool, is_krs: bool | None, criteria: tuple[CriterionValue, ...]
) -> dict[str, str]:
    if not is_target:
        return {"id": "Bukan keluarga sasaran.", "en": "Not a target family."}
    met = [c for c in criteria if c.enabled and c.value]
    if is_krs:
        return {
            "id": f"Keluarga berisiko stunting: {_labels(met, 'id')}.",
            "en": f"Family at risk of stunting: {_labels(met, 'en')}.",
        }
    if is_krs is None:
        missing = [c for c in criteria if c.enabled and c.value is None]
        return {
            "id": f"Belum dapat ditentukan, data belum lengkap: {_labels(missing, 'id')}.",
            "en": f"Cannot be determined yet, data missing: {_labels(missing, 'en')}.",
        }
    return {
        "id": "Keluarga sasaran tanpa faktor risiko stunting.",
        "en": "Target family with no stunting risk factor.",
    }


@dataclass(frozen=True)
class KrsOutcome:
    """What a rule set makes of one family's criterion values."""

    criteria: tuple[CriterionValue, ...]
    is_krs: bool | None
    reason: dict[str, str]


def krs_outcome(
    rule_set: KrsRuleSet, is_target_family: bool, values: Mapping[Criterion, bool | None]
) -> KrsOutcome:
    """``is_krs`` and the reason, from the target-family test and every criterion's value.

    The one place that turns values into a verdict: the per-household assessment and
    the set-based reassessment (which calls it once per distinct combination) share it.
    """
    criteria = tuple(
        CriterionValue(criterion, criterion in rule_set.enabled, values[criterion])
        for criterion in Criterion
    )
    enabled = [c.value for c in criteria if c.enabled]
    is_krs = _any_known(enabled) if is_target_family else False
    return KrsOutcome(criteria, is_krs, reason_text(is_target_family, is_krs, criteria))


def assess_krs(
    conditions: HouseholdConditions,
    members: Sequence[HouseholdMember],
    as_of: date,
    rule_set: KrsRuleSet | None = None,
) -> KrsAssessment:
    """Assess one family on ``as_of``, under ``rule_set`` or the one valid that day."""
    rules = rule_set or rule_set_for(as_of)
    test = target_family(members, as_of)
    outcome = krs_outcome(
        rules, test.is_target_family, _criteria_values(rules, conditions, members, as_of)
    )
    return KrsAssessment(
        as_of=as_of,
        rule_set_version=rules.version,
        target_family=test,
        is_krs=outcome.is_krs,
        criteria=outcome.criteria,
        reason=outcome.reason,
    )
