"""TPK visits and screenings (checks, risk, follow-ups) and the due-visit schedule."""

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from services.interventions.catalogue.rules import Violation
from services.interventions.eligibility import age_in
from services.interventions.tpk.rules import (
    SLOT_STATUS_LABELS,
    CatinRiskResult,
    SlotStatus,
    VisitGroup,
    VisitScheduleSetting,
    visit_schedule,
)
from services.interventions.tpk.schemas import ScheduleItem, SlotRead

# LiLA below this is chronic energy deficiency (KEK) in pregnancy; Hb below is anaemia.
KEK_MUAC_CM = 23.5
ANAEMIA_HB_G_DL = 11.0
PERSON_GROUPS = (
    VisitGroup.catin,
    VisitGroup.ibu_hamil,
    VisitGroup.ibu_pasca_persalinan,
    VisitGroup.baduta,
)
# A KRS family is followed monthly; the schedule looks this many months back.
KRS_MONTHS_SHOWN = 3
ADULT_MEASURES = ("muac_cm", "hb_g_dl")


def _v(code: str, id_: str, en: str, loc: str | None = None) -> Violation:
    return Violation(code, {"id": id_, "en": en}, loc)


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def group_window(
    subject: Mapping[str, Any], group: VisitGroup, on: date
) -> tuple[date, date | None] | None:
    """The subject's window in ``group`` holding ``on``, or None when not in the group."""
    if group == VisitGroup.krs:
        krs = subject.get("krs") or {}
        if subject["kind"] != "household" or krs.get("is_krs") is not True:
            return None
        start = _day(krs.get("assessed_on")) or on
        return start, None
    if subject["kind"] != "person":
        return None
    held = [
        (_day(w.get("start")) or date.min, _day(w.get("end")))
        for w in subject.get("target_groups") or []
        if w.get("group") == group.value
    ]
    current = [(s, e) for s, e in held if s <= on and (e is None or on <= e)]
    return max(current) if current else None


def check_visit(
    subject: Mapping[str, Any], group: VisitGroup, visited_on: date, today: date
) -> list[Violation]:
    problems = []
    if visited_on > today:
        problems.append(
            _v(
                "visit_in_future",
                "Tanggal kunjungan tidak boleh di masa depan",
                "The visit date cannot be in the future",
                "visited_on",
            )
        )
    if group_window(subject, group, visited_on) is None:
        problems.append(
            _v(
                "not_in_target_group",
                f"Subjek bukan kelompok sasaran {group.value} pada {visited_on}",
                f"The subject is not in target group {group.value} on {visited_on}",
                "target_group",
            )
        )
    return problems


def child_age_months(subject: Mapping[str, Any], on: date) -> int | None:
    birth = _day(subject.get("birth_date"))
    return age_in(birth, on) if birth else None


def visit_at_risk(group: VisitGroup, answers: Mapping[str, Any]) -> bool | None:
    """A flag for the follow-up lists: danger signs, KEK or anaemia; None for KRS visits."""
    if group == VisitGroup.krs:
        return None
    if group == VisitGroup.baduta:
        return bool(answers.get("illness_or_danger_signs"))
    risky = bool(answers.get("danger_signs"))
    if group == VisitGroup.ibu_hamil:
        muac, hb = answers.get("muac_cm"), answers.get("hb_g_dl")
        risky = risky or (muac is not None and muac < KEK_MUAC_CM)
        risky = risky or (hb is not None and hb < ANAEMIA_HB_G_DL)
    return risky


def adult_measures(group: VisitGroup, answers: Mapping[str, Any]) -> dict[str, float]:
    """LiLA and Hb of a catin or a pregnant woman, which some interventions look at (S1)."""
    if group not in (VisitGroup.catin, VisitGroup.ibu_hamil):
        return {}
    return {k: float(answers[k]) for k in ADULT_MEASURES if answers.get(k) is not None}


def screening_record(
    risk: CatinRiskResult, marriage_date: date, visited_on: date, on_time: bool
) -> dict[str, Any]:
    """What is kept of a catin screening; an at-risk bride is accompanied monthly."""
    accompaniment = None
    if risk.at_risk:
        end = visited_on + relativedelta(months=risk.accompaniment_months) - timedelta(days=1)
        accompaniment = {
            "start": visited_on.isoformat(),
            "end": end.isoformat(),
            "months": risk.accompaniment_months,
        }
    return {
        "marriage_date": marriage_date.isoformat(),
        "on_time": on_time,
        "at_risk": risk.at_risk,
        "graded": risk.graded,
        "complete": risk.complete,
        "findings": [
            {"code": f.code, "message": f.message, "value": f.value, "threshold": f.threshold}
            for f in risk.findings
        ],
        "missing": risk.missing,
        "bmi": round(risk.bmi, 1) if risk.bmi is not None else None,
        "advice": risk.advice,
        "accompaniment": accompaniment,
    }


def _slot(slot: Any) -> SlotRead:
    return SlotRead(
        number=slot.number,
        start=slot.start,
        end=slot.end,
        status=slot.status.value,
        status_label=SLOT_STATUS_LABELS[slot.status],
        visited_on=slot.visited_on,
    )


def _catin_window(subject: Mapping[str, Any], as_of: date) -> tuple[date, date | None] | None:
    """An at-risk catin is followed from the screening on; otherwise the catin window."""
    screening = subject.get("screening") or {}
    accompaniment = screening.get("accompaniment")
    if accompaniment:
        start, end = _day(accompaniment["start"]), _day(accompaniment["end"])
        assert start is not None
        if start <= as_of:
            return start, end
    return group_window(subject, VisitGroup.catin, as_of)


def schedule_items(
    subjects: Sequence[Mapping[str, Any]],
    groups: Sequence[VisitGroup],
    as_of: date,
    since: date,
    settings: Mapping[VisitGroup, VisitScheduleSetting],
) -> list[ScheduleItem]:
    """Each subject's visit slots per group on ``as_of``, those ending since ``since``."""
    items = []
    for subject in subjects:
        visits = subject.get("visits") or []
        for group in groups:
            if group == VisitGroup.catin:
                window = _catin_window(subject, as_of)
            else:
                window = group_window(subject, group, as_of)
            if window is None:
                continue
            start, end = window
            if group == VisitGroup.krs:
                shown = as_of.replace(day=1) - relativedelta(months=KRS_MONTHS_SHOWN - 1)
                start = max(start, shown)
            done = [_day(v["on"]) for v in visits if v["group"] == group.value]
            slots = [
                s
                for s in visit_schedule(group, start, end, [d for d in done if d], as_of, settings)
                if s.end >= since
            ]
            if not slots:
                continue
            open_slots = [s for s in slots if s.status in (SlotStatus.due, SlotStatus.overdue)]
            upcoming = [s.start for s in slots if s.status == SlotStatus.upcoming]
            items.append(
                ScheduleItem(
                    subject_id=subject["id"],
                    subject_kind=subject["kind"],
                    household_id=subject["household_id"],
                    village_code=subject["village_code"],
                    target_group=group.value,
                    window_start=start,
                    window_end=end,
                    due=sum(s.status == SlotStatus.due for s in slots),
                    overdue=sum(s.status == SlotStatus.overdue for s in slots),
                    next_due=min([s.end for s in open_slots] or upcoming or [None]),
                    slots=[_slot(s) for s in slots],
                )
            )
    return items
