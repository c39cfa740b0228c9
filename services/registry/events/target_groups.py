"""Target groups of a person and of a family, derived for any date (never stored flags).

Each group comes with the window it holds for: ``start`` and ``end`` are the first and
last day (inclusive). ``end`` is the day it ends if nothing else changes (a death ends
every window early); either is None when the data cannot tell.

PUS is a couple but is counted by the wife: the person-level group ``pus`` is given to
the married woman aged 15–49, never to her husband, so a count of ``pus`` people is a
count of couples. The husband is attached at household level by :func:`pus_couples`.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from services.registry.codelists import FEMALE, HEAD, HUSBAND, MALE, WIFE
from services.registry.events.rules import LifeEvents
from services.registry.persons.rules import PersonFacts, add_months, add_years

CATIN_LEAD_MONTHS = 3
POSTPARTUM_DAYS = 42
BADUTA_MONTHS = 24
BALITA_MONTHS = 60
PUS_AGE = (15, 49)
REMAJA_PUTRI_AGE = (10, 19)

_DAY = timedelta(days=1)


class TargetGroup(StrEnum):
    CATIN = "catin"
    PUS = "pus"
    IBU_HAMIL = "ibu_hamil"
    IBU_PASCA_PERSALINAN = "ibu_pasca_persalinan"
    BADUTA = "baduta"
    BALITA = "balita"
    REMAJA_PUTRI = "remaja_putri"


TARGET_GROUP_LABELS: dict[TargetGroup, dict[str, str]] = {
    TargetGroup.CATIN: {"id": "Calon pengantin", "en": "Bride or groom to be"},
    TargetGroup.PUS: {"id": "Pasangan usia subur", "en": "Couple of reproductive age"},
    TargetGroup.IBU_HAMIL: {"id": "Ibu hamil", "en": "Pregnant woman"},
    TargetGroup.IBU_PASCA_PERSALINAN: {"id": "Ibu pasca persalinan", "en": "Postpartum mother"},
    TargetGroup.BADUTA: {"id": "Anak baduta (0–23 bulan)", "en": "Child aged 0–23 months"},
    TargetGroup.BALITA: {"id": "Anak balita (0–59 bulan)", "en": "Child aged 0–59 months"},
    TargetGroup.REMAJA_PUTRI: {"id": "Remaja putri (10–19 tahun)", "en": "Girl aged 10–19"},
}


@dataclass(frozen=True)
class Membership:
    group: TargetGroup
    start: date | None
    end: date | None

    def holds_on(self, on: date) -> bool:
        return (self.start is None or self.start <= on) and (self.end is None or on <= self.end)


def _earliest(*days: date | None) -> date | None:
    known = [d for d in days if d is not None]
    return min(known) if known else None


def _age_window(birth: date, low_years: int, high_years: int) -> tuple[date, date]:
    """First and last day of ages low..high completed years."""
    return add_years(birth, low_years), add_years(birth, high_years + 1) - _DAY


def target_groups(person: PersonFacts, events: LifeEvents, as_of: date) -> list[Membership]:
    """The groups ``person`` belongs to on ``as_of``, each with its window."""
    if not person.alive_on(as_of):
        return []
    last_alive = person.death_date - _DAY if person.death_date else None
    birth = person.birth_date
    found: list[Membership] = []

    def add(group: TargetGroup, start: date | None, end: date | None) -> None:
        membership = Membership(group, start, _earliest(end, last_alive))
        if membership.holds_on(as_of):
            found.append(membership)

    for plan in events.marriage_plans:
        add(TargetGroup.CATIN, add_months(plan.planned_date, -CATIN_LEAD_MONTHS), plan.planned_date)

    if person.sex == FEMALE and person.married_on(as_of):
        first, last = _age_window(birth, *PUS_AGE)
        since = person.marital_status_since
        if first <= as_of <= last:
            add(TargetGroup.PUS, max(first, since) if since else None, last)

    pregnancy = events.pregnancy_on(as_of)
    if pregnancy is not None:
        end = pregnancy.outcome_date - _DAY if pregnancy.outcome_date else None
        add(TargetGroup.IBU_HAMIL, pregnancy.start_date, end)

    recent = [d for d in events.delivery_dates() if d <= as_of]
    if recent:
        add(TargetGroup.IBU_PASCA_PERSALINAN, recent[-1], recent[-1] + timedelta(POSTPARTUM_DAYS))

    add(TargetGroup.BADUTA, birth, add_months(birth, BADUTA_MONTHS) - _DAY)
    add(TargetGroup.BALITA, birth, add_months(birth, BALITA_MONTHS) - _DAY)
    if person.sex == FEMALE:
        add(TargetGroup.REMAJA_PUTRI, *_age_window(birth, *REMAJA_PUTRI_AGE))
    return found


def group_names(memberships: Sequence[Membership]) -> set[TargetGroup]:
    return {m.group for m in memberships}


# --- household level -------------------------------------------------------------------


@dataclass(frozen=True)
class HouseholdMember:
    """A person in a household (one Kartu Keluarga), with what the family rules need.

    ``mother_id``/``spouse_id`` link to other members when known; ``education`` is the
    SIAK code; ``living_children_reported`` is the number of living children a woman
    reports, including those living elsewhere.
    """

    member_id: str
    person: PersonFacts
    relationship: int
    events: LifeEvents = field(default_factory=LifeEvents)
    mother_id: str | None = None
    spouse_id: str | None = None
    education: int | None = None
    living_children_reported: int | None = None

    def groups_on(self, as_of: date) -> set[TargetGroup]:
        return group_names(target_groups(self.person, self.events, as_of))


def family_wives(members: Sequence[HouseholdMember], as_of: date) -> list[HouseholdMember]:
    """The women whose age and children the family-risk rules look at.

    The head's wife (ISTRI) or the female head first; then any other woman of the
    household who is married or pregnant on ``as_of``. Young couples often stay on the
    parents' Kartu Keluarga, and their pregnancy or baby is exactly what the rules are
    about, so a married daughter or daughter-in-law counts as a wife of the family too.
    """
    primary, others = [], []
    for member in members:
        person = member.person
        if person.sex != FEMALE or not person.alive_on(as_of):
            continue
        if member.relationship in (HEAD, WIFE):
            primary.append(member)
        elif person.married_on(as_of) or member.events.pregnancy_on(as_of) is not None:
            others.append(member)
    return primary + others


@dataclass(frozen=True)
class TargetFamilyTest:
    """BKKBN's target family: a PUS wife, a pregnant wife, a child 0–23 or 24–59 months.

    A pregnant woman counts whatever her marital status: an unmarried pregnant daughter
    puts the family in the target group just as a pregnant wife does.
    """

    pus_wife: bool
    pregnant_wife: bool
    child_0_23_months: bool
    child_24_59_months: bool

    @property
    def is_target_family(self) -> bool:
        return (
            self.pus_wife or self.pregnant_wife or self.child_0_23_months or self.child_24_59_months
        )


def target_family(members: Sequence[HouseholdMember], as_of: date) -> TargetFamilyTest:
    groups = [member.groups_on(as_of) for member in members]
    return TargetFamilyTest(
        pus_wife=any(TargetGroup.PUS in g for g in groups),
        pregnant_wife=any(TargetGroup.IBU_HAMIL in g for g in groups),
        child_0_23_months=any(TargetGroup.BADUTA in g for g in groups),
        child_24_59_months=any(
            TargetGroup.BALITA in g and TargetGroup.BADUTA not in g for g in groups
        ),
    )


@dataclass(frozen=True)
class PusCouple:
    wife_id: str
    husband_id: str | None  # None when the husband is not in this household or unknown


def pus_couples(members: Sequence[HouseholdMember], as_of: date) -> list[PusCouple]:
    """Each PUS wife with her husband: the linked spouse, else the KK's own couple."""
    by_id = {m.member_id: m for m in members}
    head = next((m for m in members if m.relationship == HEAD), None)
    couples = []
    for wife in members:
        if TargetGroup.PUS not in wife.groups_on(as_of):
            continue
        husband: HouseholdMember | None = None
        if wife.spouse_id is not None:
            husband = by_id.get(wife.spouse_id)
        elif wife.relationship == WIFE and head is not None and head.person.sex == MALE:
            husband = head
        elif wife.relationship == HEAD:
            husband = next((m for m in members if m.relationship == HUSBAND), None)
        if husband is not None and not husband.person.alive_on(as_of):
            husband = None
        couples.append(PusCouple(wife.member_id, husband.member_id if husband else None))
    return couples
