"""How registry events change a person as reporting keeps it: residence over time and
target-group windows over time. Pure functions over plain values; the consumer loads
the persons a batch touches, applies the events here in feed order, and writes back.

Residence: a person lives in the village of their first event from -infinity on (the
register does not know where anyone lived before), and in a new village from the day
of each move. ``person.moved`` may carry ``moved_on``; without it the move counts from
the day the event was recorded (western Indonesian time).

Target groups: every person event lists the groups held on the day it was written, each
with its window. Reports ask about past periods, so history is kept: windows that ended
stay, the new windows replace current ones of the same group, and a window that had
started but is no longer listed ends the day before the event.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from common.clock import local_date

FIRST_DAY = date.min  # stored as -infinity
LAST_DAY = date.max  # stored as infinity
CATIN_LEAD_MONTHS = 3
POSTPARTUM_DAYS = 42
# A pregnancy without an outcome is held at most 45 weeks (the registry's rule).
MAX_GESTATION = timedelta(weeks=45)
_DAY = timedelta(days=1)

PERSON_EVENTS = frozenset({"person.registered", "person.updated", "person.moved", "person.died"})


def position_key(position: str) -> tuple[int, int]:
    """Feed positions ``"<xid>.<seq>"`` in feed order; ``""`` sorts first."""
    if not position:
        return (0, 0)
    xid, _, seq = position.partition(".")
    return (int(xid), int(seq))


def day(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return local_date(value)
    if isinstance(value, date):
        return value
    text = str(value)
    if len(text) > 10:  # a timestamp: its local calendar day
        return local_date(datetime.fromisoformat(text))
    return date.fromisoformat(text)


@dataclass(frozen=True)
class Window:
    group: str
    start: date
    end: date

    def overlaps(self, first: date, last: date) -> bool:
        return self.start <= last and self.end >= first


@dataclass(frozen=True)
class Residence:
    valid_from: date
    village_code: str
    household_id: str | None


@dataclass
class PersonState:
    person_id: str
    village_code: str
    household_id: str | None = None
    sex: int | None = None
    birth_date: date | None = None
    death_date: date | None = None
    relationship: int | None = None
    has_nik: bool | None = None
    has_birth_certificate: bool | None = None
    merged_into: str | None = None
    position: tuple[int, int] = (0, 0)
    residence: list[Residence] = field(default_factory=list)
    windows: list[Window] = field(default_factory=list)
    residence_changed: bool = False

    @property
    def moved(self) -> bool:
        return len(self.residence) > 1


def _window(group: str, start: Any, end: Any) -> Window:
    return Window(group, day(start) or FIRST_DAY, day(end) or LAST_DAY)


def _sorted(windows: Iterable[Window]) -> list[Window]:
    return sorted(set(windows), key=lambda w: (w.group, w.start, w.end))


def merge_windows(old: Iterable[Window], listed: Iterable[Window], cutoff: date) -> list[Window]:
    """The windows after the registry said ``listed`` are the groups held on ``cutoff``."""
    fresh = list(listed)
    kept: list[Window] = []
    for w in old:
        same = [f for f in fresh if f.group == w.group]
        if same:
            if all(w.end < f.start for f in same):
                kept.append(w)  # an earlier window of the group, e.g. a past pregnancy
            continue
        if w.end < cutoff or w.start > cutoff:
            kept.append(w)  # history, or a window still to come (catin)
        elif w.start < cutoff:
            kept.append(Window(w.group, w.start, cutoff - _DAY))
    return _sorted(kept + fresh)


def _upsert_window(
    windows: list[Window], window: Window, *, drop_overlapping: bool
) -> list[Window]:
    others = [
        w
        for w in windows
        if w.group != window.group
        or (
            w.start != window.start
            and not (drop_overlapping and w.overlaps(window.start, window.end))
        )
    ]
    return _sorted([*others, window])


def life_event_windows(windows: list[Window], payload: Mapping[str, Any]) -> list[Window]:
    """A life event opens or closes a window the person events may not list any more
    (a pregnancy recorded after it ended, a delivery months ago)."""
    kind = payload.get("kind")
    start = day(payload.get("start_date"))
    if kind == "pregnancy" and start is not None:
        ended = day(payload.get("end_date"))
        end = ended - _DAY if ended else start + MAX_GESTATION
        windows = _upsert_window(windows, Window("ibu_hamil", start, end), drop_overlapping=False)
        outcome_day = ended if payload.get("outcome") in ("live_birth", "stillbirth") else None
        if outcome_day is not None:
            postpartum = Window(
                "ibu_pasca_persalinan", outcome_day, outcome_day + timedelta(POSTPARTUM_DAYS)
            )
            windows = _upsert_window(windows, postpartum, drop_overlapping=False)
        return windows
    if kind == "delivery" and start is not None:
        postpartum = Window("ibu_pasca_persalinan", start, start + timedelta(POSTPARTUM_DAYS))
        return _upsert_window(windows, postpartum, drop_overlapping=False)
    if kind == "marriage_plan" and (planned := day(payload.get("expected_date"))) is not None:
        catin = Window("catin", planned - relativedelta(months=CATIN_LEAD_MONTHS), planned)
        return _upsert_window(windows, catin, drop_overlapping=True)
    return windows


def _listed_windows(payload: Mapping[str, Any]) -> list[Window]:
    listed = []
    for g in payload.get("target_groups") or []:
        w = _window(g["group"], g.get("start"), g.get("end"))
        if w.group == "ibu_hamil" and w.end == LAST_DAY and w.start != FIRST_DAY:
            w = Window(w.group, w.start, w.start + MAX_GESTATION)
        listed.append(w)
    return listed


def apply_person_event(
    state: PersonState, kind: str, payload: Mapping[str, Any], position: str, at: datetime
) -> bool:
    """Apply one person.* event; False when the state already reflects it."""
    key = position_key(position)
    if state.position >= key:
        return False
    on = local_date(at)
    village = payload["village_code"]
    household = str(payload["household_id"]) if payload.get("household_id") else None
    death = day(payload.get("death_date"))
    if not state.residence:
        state.residence = [Residence(FIRST_DAY, village, household)]
        state.residence_changed = True
    elif kind == "person.moved" or state.residence[-1].village_code != village:
        moved_on = day(payload.get("moved_on")) or on
        kept = [r for r in state.residence if r.valid_from < moved_on]
        if not kept:  # moved before anything known: the new village from the start
            moved_on = FIRST_DAY
        state.residence = [*kept, Residence(moved_on, village, household)]
        state.residence_changed = True
    elif state.residence[-1].household_id != household:
        last = state.residence[-1]
        state.residence[-1] = Residence(last.valid_from, last.village_code, household)
    state.village_code = village
    state.household_id = household
    state.sex = payload.get("sex")
    state.birth_date = day(payload.get("birth_date"))
    state.death_date = death
    state.relationship = payload.get("relationship")
    state.has_nik = payload.get("has_nik")
    state.has_birth_certificate = payload.get("has_birth_certificate")
    cutoff = min(on, death) if death else on
    state.windows = merge_windows(state.windows, _listed_windows(payload), cutoff)
    state.position = key
    return True


def apply_life_event(state: PersonState, payload: Mapping[str, Any], position: str) -> bool:
    key = position_key(position)
    if state.position >= key:
        return False
    state.windows = life_event_windows(state.windows, payload)
    state.position = key
    return True


def apply_merge(state: PersonState, payload: Mapping[str, Any], position: str) -> bool:
    key = position_key(position)
    if state.position >= key:
        return False
    state.merged_into = str(payload["merged_into"])
    state.position = key
    return True


def new_person(person_id: str, village_code: str) -> PersonState:
    return PersonState(person_id=person_id, village_code=village_code)
