"""Family-assistance team (TPK) rules: team composition, visit checklists per target
group, the catin (Elsimil) screening risk rule and the due-visit schedule."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from dateutil.relativedelta import relativedelta

from services.interventions.catalogue.rules import Violation
from services.interventions.eligibility import Text


def _v(code: str, id_: str, en: str, loc: str | None = None) -> Violation:
    return Violation(code, {"id": id_, "en": en}, loc)


# --- team ------------------------------------------------------------------------------


class TpkRole(StrEnum):
    midwife = "midwife"
    pkk_cadre = "pkk_cadre"
    kb_cadre = "kb_cadre"


ROLE_LABELS: dict[TpkRole, Text] = {
    TpkRole.midwife: {"id": "bidan", "en": "midwife"},
    TpkRole.pkk_cadre: {"id": "kader PKK", "en": "PKK cadre"},
    TpkRole.kb_cadre: {"id": "kader KB", "en": "family-planning cadre"},
}


@dataclass(frozen=True)
class TeamMember:
    person_id: str
    role: str


def validate_team(members: Sequence[TeamMember]) -> list[Violation]:
    """A TPK is exactly three different people: a midwife, a PKK cadre and a KB cadre."""
    problems: list[Violation] = []
    if len(members) != 3:
        problems.append(
            _v(
                "team_size",
                f"TPK beranggotakan 3 orang, bukan {len(members)}",
                f"A TPK has 3 members, not {len(members)}",
                "members",
            )
        )
    roles = [m.role for m in members]
    for n, role in enumerate(roles):
        if role not in {r.value for r in TpkRole}:
            problems.append(
                _v(
                    "unknown_role",
                    f"Peran tidak dikenal: {role}",
                    f"Unknown role: {role}",
                    f"members[{n}].role",
                )
            )
    for role in TpkRole:
        count = roles.count(role.value)
        label = ROLE_LABELS[role]
        if count == 0:
            problems.append(
                _v(
                    "missing_role",
                    f"TPK belum memiliki {label['id']}",
                    f"The TPK has no {label['en']}",
                    "members",
                )
            )
        elif count > 1:
            problems.append(
                _v(
                    "duplicate_role",
                    f"TPK hanya boleh memiliki satu {label['id']}",
                    f"The TPK may have only one {label['en']}",
                    "members",
                )
            )
    ids = [m.person_id for m in members]
    if len(set(ids)) != len(ids):
        problems.append(
            _v(
                "duplicate_member",
                "Satu orang hanya boleh memegang satu peran dalam TPK",
                "One person can hold only one role in the TPK",
                "members",
            )
        )
    return problems


# --- visit checklists ------------------------------------------------------------------


class VisitGroup(StrEnum):
    catin = "catin"
    ibu_hamil = "ibu_hamil"
    ibu_pasca_persalinan = "ibu_pasca_persalinan"
    baduta = "baduta"
    krs = "krs"


class ItemKind(StrEnum):
    number = "number"
    count = "count"
    boolean = "boolean"
    choice = "choice"


@dataclass(frozen=True)
class ChecklistItem:
    code: str
    label: Text
    kind: ItemKind
    required: bool = True
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    # required only for children whose age in months is in this inclusive range
    age_months: tuple[int, int] | None = None


def _num(code: str, id_: str, en: str, unit: str, lo: float, hi: float, **kw: Any) -> ChecklistItem:
    return ChecklistItem(
        code, {"id": id_, "en": en}, ItemKind.number, unit=unit, min=lo, max=hi, **kw
    )


def _yes(code: str, id_: str, en: str, **kw: Any) -> ChecklistItem:
    return ChecklistItem(code, {"id": id_, "en": en}, ItemKind.boolean, **kw)


KB_METHODS = ("none", "iud", "implant", "injection", "pill", "condom", "mow", "mop", "lam")

# Plausible-value ranges reject typing errors, not unusual people.
CHECKLISTS: dict[VisitGroup, tuple[ChecklistItem, ...]] = {
    VisitGroup.catin: (
        _num("height_cm", "tinggi badan", "height", "cm", 100, 220),
        _num("weight_kg", "berat badan", "weight", "kg", 25, 250),
        _num("muac_cm", "lingkar lengan atas (LiLA)", "mid-upper-arm circumference", "cm", 10, 60),
        _num("waist_cm", "lingkar perut", "waist circumference", "cm", 40, 200),
        _num("hb_g_dl", "kadar hemoglobin (Hb)", "haemoglobin (Hb)", "g/dL", 3, 20),
        _yes("smoke_exposure", "terpapar asap rokok", "exposed to tobacco smoke"),
        _yes("counselling_given", "diberi konseling", "counselling given", required=False),
    ),
    VisitGroup.ibu_hamil: (
        _yes("danger_signs", "tanda bahaya kehamilan", "pregnancy danger signs"),
        _num("hb_g_dl", "kadar hemoglobin (Hb)", "haemoglobin (Hb)", "g/dL", 3, 20, required=False),
        _num("muac_cm", "lingkar lengan atas (LiLA)", "mid-upper-arm circumference", "cm", 10, 60),
        ChecklistItem(
            "ttd_tablets_taken",
            {"id": "TTD diminum sejak kunjungan lalu", "en": "iron tablets taken since last visit"},
            ItemKind.count,
            unit="tablets",
            min=0,
            max=200,
        ),
        _yes("anc_visit", "periksa kehamilan sejak kunjungan lalu", "antenatal check since last"),
        _num("weight_kg", "berat badan", "weight", "kg", 25, 250, required=False),
        _yes("counselling_given", "diberi konseling", "counselling given", required=False),
    ),
    VisitGroup.ibu_pasca_persalinan: (
        _yes("danger_signs", "tanda bahaya nifas", "postpartum danger signs"),
        _yes("kb_counselling", "konseling KB pasca persalinan", "postpartum FP counselling"),
        ChecklistItem(
            "kb_method",
            {"id": "metode KB yang dipilih", "en": "family-planning method chosen"},
            ItemKind.choice,
            required=False,
            choices=KB_METHODS,
        ),
        _yes("breastfeeding", "menyusui", "breastfeeding"),
        _yes("postnatal_check", "kunjungan nifas oleh tenaga kesehatan", "postnatal check"),
    ),
    VisitGroup.baduta: (
        _yes("weighed_this_month", "ditimbang bulan ini", "weighed this month"),
        _num("weight_kg", "berat badan", "weight", "kg", 1, 25, required=False),
        _num("length_cm", "panjang/tinggi badan", "length/height", "cm", 35, 120, required=False),
        _yes("breastfeeding", "masih menyusu", "still breastfed"),
        _yes(
            "exclusive_breastfeeding",
            "ASI eksklusif",
            "exclusively breastfed",
            required=False,
            age_months=(0, 5),
        ),
        _yes(
            "complementary_feeding",
            "mendapat MP-ASI sesuai umur",
            "age-appropriate complementary food",
            required=False,
            age_months=(6, 23),
        ),
        _yes("immunisation_up_to_date", "imunisasi sesuai jadwal", "immunisation up to date"),
        _yes("illness_or_danger_signs", "sakit atau tanda bahaya", "illness or danger signs"),
    ),
    VisitGroup.krs: (
        _yes("safe_drinking_water", "air minum layak", "safe drinking water"),
        _yes("safe_sanitation", "jamban layak", "safe sanitation"),
        _yes("smoker_in_house", "ada perokok di rumah", "smoker in the house"),
        _yes("counselling_given", "diberi konseling", "counselling given"),
        _yes("referral_needed", "perlu rujukan", "referral needed", required=False),
    ),
}


def validate_checklist(
    group: VisitGroup | str, answers: Mapping[str, Any], child_age_months: int | None = None
) -> list[Violation]:
    """Every problem with a visit's answers for the group's checklist."""
    items = {i.code: i for i in CHECKLISTS[VisitGroup(group)]}
    problems = [
        _v(
            "unknown_item",
            f"Isian tidak ada dalam daftar periksa: {code}",
            f"Not an item of this checklist: {code}",
            code,
        )
        for code in answers
        if code not in items
    ]
    for code, item in items.items():
        value = answers.get(code)
        if value is None:
            needed = item.required or (
                item.age_months is not None
                and child_age_months is not None
                and item.age_months[0] <= child_age_months <= item.age_months[1]
            )
            if needed:
                problems.append(
                    _v(
                        "answer_required",
                        f"{item.label['id']} wajib diisi",
                        f"{item.label['en']} is required",
                        code,
                    )
                )
            continue
        problems += _check_answer(item, value)
    return problems


def _check_answer(item: ChecklistItem, value: Any) -> list[Violation]:
    if item.kind == ItemKind.boolean:
        ok = isinstance(value, bool)
    elif item.kind == ItemKind.choice:
        ok = value in item.choices
    elif item.kind == ItemKind.count:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok:
        return [
            _v(
                "invalid_answer",
                f"Jawaban {item.label['id']} tidak sesuai jenisnya ({item.kind.value})",
                f"The answer for {item.label['en']} is not a valid {item.kind.value}",
                item.code,
            )
        ]
    if item.kind in (ItemKind.number, ItemKind.count) and not (
        (item.min is None or value >= item.min) and (item.max is None or value <= item.max)
    ):
        return [
            _v(
                "out_of_range",
                f"{item.label['id']} harus antara {item.min} dan {item.max} {item.unit or ''}",
                f"{item.label['en']} must be between {item.min} and {item.max} {item.unit or ''}",
                item.code,
            )
        ]
    return []


# --- catin screening -------------------------------------------------------------------


@dataclass(frozen=True)
class CatinScreening:
    sex: str
    hb_g_dl: float | None = None
    muac_cm: float | None = None
    height_cm: float | None = None
    weight_kg: float | None = None
    waist_cm: float | None = None
    smoke_exposure: bool | None = None
    pregnant: bool = False


@dataclass(frozen=True)
class CatinRiskSettings:
    """BKKBN: at risk when Hb < 11 g/dL or LiLA < 23.5 cm. The BMI < 18.5 and Hb < 12 g/dL
    (non-pregnant women) criteria are common but unconfirmed, hence off by default."""

    hb_below: float = 11.0
    muac_below: float = 23.5
    use_unconfirmed_rules: bool = False
    bmi_below: float = 18.5
    hb_below_non_pregnant: float = 12.0
    # The thresholds are for women; grooms are screened but not graded (unconfirmed).
    sexes: frozenset[str] = frozenset({"F"})
    accompaniment_months: int = 3
    months_before_marriage: int = 3


DEFAULT_CATIN_RISK = CatinRiskSettings()


@dataclass(frozen=True)
class Finding:
    code: str
    message: Text
    value: float
    threshold: float


@dataclass(frozen=True)
class CatinRiskResult:
    at_risk: bool
    graded: bool
    complete: bool
    findings: list[Finding]
    missing: list[str]
    bmi: float | None
    accompaniment_months: int
    advice: list[Text] = field(default_factory=list)


def body_mass_index(weight_kg: float, height_cm: float) -> float:
    return weight_kg / (height_cm / 100) ** 2


def _fmt(value: float, lang: str) -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if lang == "id" else text


def catin_risk(
    screening: CatinScreening, settings: CatinRiskSettings = DEFAULT_CATIN_RISK
) -> CatinRiskResult:
    """Grade a catin screening. ``complete`` is False when a not-at-risk answer rests on
    missing measurements; one finding is enough to be at risk."""
    bmi = None
    if screening.weight_kg and screening.height_cm:
        bmi = body_mass_index(screening.weight_kg, screening.height_cm)
    sex = {"P": "F", "L": "M"}.get(screening.sex.upper(), screening.sex.upper())
    if sex not in settings.sexes:
        return CatinRiskResult(False, False, True, [], [], bmi, 0)
    checks: list[tuple[str, str, float | None, float, str, str, str]] = [
        ("anaemia", "hb_g_dl", screening.hb_g_dl, settings.hb_below, "Hb", "Hb", "g/dL"),
        ("kek", "muac_cm", screening.muac_cm, settings.muac_below, "LiLA", "MUAC", "cm"),
    ]
    if settings.use_unconfirmed_rules:
        checks.append(("underweight", "bmi", bmi, settings.bmi_below, "IMT", "BMI", "kg/m²"))
        if not screening.pregnant:
            checks.append(
                (
                    "anaemia_non_pregnant",
                    "hb_g_dl",
                    screening.hb_g_dl,
                    settings.hb_below_non_pregnant,
                    "Hb",
                    "Hb",
                    "g/dL",
                )
            )
    findings: list[Finding] = []
    missing: list[str] = []
    for code, name, value, threshold, label_id, label_en, unit in checks:
        if value is None:
            missing += [] if name in missing else [name]
        elif value < threshold:
            findings.append(
                Finding(
                    code,
                    {
                        "id": f"{label_id} {_fmt(value, 'id')} {unit} < {_fmt(threshold, 'id')}",
                        "en": f"{label_en} {_fmt(value, 'en')} {unit} < {_fmt(threshold, 'en')}",
                    },
                    value,
                    threshold,
                )
            )
    at_risk = bool(findings)
    advice: list[Text] = []
    if at_risk:
        months = settings.accompaniment_months
        advice = [
            {
                "id": f"Pendampingan TPK selama {months} bulan",
                "en": f"TPK accompaniment for {months} months",
            },
            {
                "id": "Disarankan menunda kehamilan sampai status gizi dan Hb membaik",
                "en": "Advised to delay pregnancy until nutrition and Hb improve",
            },
        ]
    # Missing measurements (e.g. BMI when height was not taken) leave a "not at risk"
    # answer open; an at-risk finding stands regardless.
    return CatinRiskResult(
        at_risk=at_risk,
        graded=True,
        complete=at_risk or not missing,
        findings=findings,
        missing=missing,
        bmi=bmi,
        accompaniment_months=settings.accompaniment_months if at_risk else 0,
        advice=advice,
    )


def screening_on_time(
    screened_on: date, marriage_date: date, settings: CatinRiskSettings = DEFAULT_CATIN_RISK
) -> bool:
    """Whether the screening was done at least the set months before the marriage."""
    return screened_on <= marriage_date - relativedelta(months=settings.months_before_marriage)


# --- visit schedules -------------------------------------------------------------------


class ScheduleKind(StrEnum):
    monthly = "monthly"
    day_windows = "day_windows"


@dataclass(frozen=True)
class VisitScheduleSetting:
    kind: ScheduleKind
    # monthly: the number of monthly visits, None = every month of the window
    months: int | None = None
    # day_windows: inclusive day offsets from the window start (day 0)
    day_windows: tuple[tuple[int, int], ...] = ()
    grace_days: int = 0


# Visit frequencies are not published: DOMAIN.md's defaults, meant to be overridden.
DEFAULT_VISIT_SCHEDULES: dict[VisitGroup, VisitScheduleSetting] = {
    VisitGroup.catin: VisitScheduleSetting(ScheduleKind.monthly, months=3),
    VisitGroup.ibu_hamil: VisitScheduleSetting(ScheduleKind.monthly),
    VisitGroup.ibu_pasca_persalinan: VisitScheduleSetting(
        ScheduleKind.day_windows, day_windows=((1, 2), (3, 7), (8, 28), (29, 42))
    ),
    VisitGroup.baduta: VisitScheduleSetting(ScheduleKind.monthly),
    VisitGroup.krs: VisitScheduleSetting(ScheduleKind.monthly),
}


def configure_visit_schedules(
    overrides: Mapping[str, Mapping[str, Any]],
    base: Mapping[VisitGroup, VisitScheduleSetting] = DEFAULT_VISIT_SCHEDULES,
) -> dict[VisitGroup, VisitScheduleSetting]:
    """Settings applied over the defaults, e.g. ``{"catin": {"months": 4}}``."""
    schedules = dict(base)
    for group, values in overrides.items():
        fields = dict(values)
        if "kind" in fields:
            fields["kind"] = ScheduleKind(fields["kind"])
        if "day_windows" in fields:
            fields["day_windows"] = tuple(tuple(w) for w in fields["day_windows"])
        setting = replace(schedules[VisitGroup(group)], **fields)
        if any(a > b or a < 0 for a, b in setting.day_windows) or setting.grace_days < 0:
            raise ValueError(f"invalid visit schedule for {group}")
        if setting.kind == ScheduleKind.day_windows and not setting.day_windows:
            raise ValueError(f"day windows missing for {group}")
        schedules[VisitGroup(group)] = setting
    return schedules


class SlotStatus(StrEnum):
    done = "done"
    due = "due"
    overdue = "overdue"
    upcoming = "upcoming"


SLOT_STATUS_LABELS: dict[SlotStatus, Text] = {
    SlotStatus.done: {"id": "sudah dikunjungi", "en": "visited"},
    SlotStatus.due: {"id": "jatuh tempo", "en": "due"},
    SlotStatus.overdue: {"id": "terlambat", "en": "overdue"},
    SlotStatus.upcoming: {"id": "akan datang", "en": "upcoming"},
}


@dataclass(frozen=True)
class VisitSlot:
    number: int
    start: date
    end: date
    status: SlotStatus
    visited_on: date | None = None


def _slot_ranges(
    setting: VisitScheduleSetting, start: date, end: date | None, as_of: date
) -> list[tuple[date, date]]:
    if setting.kind == ScheduleKind.day_windows:
        ranges = [
            (start + timedelta(days=a), start + timedelta(days=b)) for a, b in setting.day_windows
        ]
    else:
        ranges = []
        n = 0
        # An open window (no end yet) is scheduled up to the month holding as_of.
        last_start = end if end is not None else max(as_of, start)
        while setting.months is None or n < setting.months:
            slot_start = start + relativedelta(months=n)
            if slot_start > last_start:
                break
            ranges.append((slot_start, start + relativedelta(months=n + 1) - timedelta(days=1)))
            n += 1
    if end is None:
        return ranges
    return [(a, min(b, end)) for a, b in ranges if a <= end]


def visit_schedule(
    group: VisitGroup | str,
    window_start: date,
    window_end: date | None,
    visits_done: Iterable[date],
    as_of: date,
    settings: Mapping[VisitGroup, VisitScheduleSetting] = DEFAULT_VISIT_SCHEDULES,
) -> list[VisitSlot]:
    """Every visit slot of a subject's time in ``group`` with its status on ``as_of``.

    ``window_start`` is when the group membership (or accompaniment) began: the delivery
    day for postpartum, birth for baduta; ``window_end`` its inclusive end, None while
    open. Each visit fills at most one slot, the earliest open one it falls in."""
    setting = settings[VisitGroup(group)]
    unused = sorted(v for v in visits_done if v <= as_of)
    slots = []
    for number, (start, end) in enumerate(
        _slot_ranges(setting, window_start, window_end, as_of), 1
    ):
        visit = next((v for v in unused if start <= v <= end), None)
        if visit is not None:
            unused.remove(visit)
            status = SlotStatus.done
        elif as_of > end + timedelta(days=setting.grace_days):
            status = SlotStatus.overdue
        elif as_of >= start:
            status = SlotStatus.due
        else:
            status = SlotStatus.upcoming
        slots.append(VisitSlot(number, start, end, status, visit))
    return slots


def due_visits(
    group: VisitGroup | str,
    window_start: date,
    window_end: date | None,
    visits_done: Iterable[date],
    as_of: date,
    settings: Mapping[VisitGroup, VisitScheduleSetting] = DEFAULT_VISIT_SCHEDULES,
) -> list[VisitSlot]:
    """The slots still needing a visit on ``as_of``: due now or overdue."""
    return [
        slot
        for slot in visit_schedule(group, window_start, window_end, visits_done, as_of, settings)
        if slot.status in (SlotStatus.due, SlotStatus.overdue)
    ]
