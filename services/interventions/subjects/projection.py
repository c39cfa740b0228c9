"""The registry's persons and households as this service keeps them: how each registry
feed event changes a subject. Pure functions over plain dicts; the consumer loads the
subjects a batch touches, applies the events here in feed order, and writes back.

Target groups: the registry sends, with every person event, the groups the person holds
on that day. Reports ask about past periods too, so the projection keeps a history:
windows that ended stay, the new windows replace the ones of the same group, and a
window that had started but is no longer held is ended the day before the event. A
planned marriage gives the catin window as soon as it is recorded, before the registry
would list it (it lists only groups already held).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from common.clock import local_date

State = dict[str, Any]
# Months before the planned marriage a bride or groom counts as catin (registry's rule).
CATIN_LEAD_MONTHS = 3
_DAY = timedelta(days=1)

PERSON_EVENTS = frozenset({"person.registered", "person.updated", "person.moved", "person.died"})
HOUSEHOLD_EVENTS = frozenset({"household.registered", "household.updated"})
MEASUREMENT_EVENTS = frozenset({"measurement.recorded", "measurement.corrected"})
LIFE_EVENTS = frozenset({"life_event.recorded", "life_event.updated"})
LOKUS_EVENTS = frozenset({"lokus.designated", "lokus.revoked"})
# Growth classes as the registry's measurement payload names them.
GROWTH_CLASS_FIELDS = ("class_len", "class_wei", "class_wfl", "class_bmi")

COLUMNS = (
    "id",
    "kind",
    "household_id",
    "village_code",
    "sex",
    "birth_date",
    "alive",
    "death_date",
    "active",
    "target_groups",
    "krs",
    "growth",
    "welfare_decile",
    "has_birth_certificate",
    "has_nik",
    "merged_into",
    "source",
    "updated_from",
    "source_at",
)


def position_key(position: str) -> tuple[int, int]:
    """Feed positions ``"<xid>.<seq>"`` in feed order; ``""`` sorts first."""
    if not position:
        return (0, 0)
    xid, _, seq = position.partition(".")
    return (int(xid), int(seq))


def blank(subject_id: str, kind: str, village_code: str) -> State:
    return {
        "id": subject_id,
        "kind": kind,
        "household_id": subject_id if kind == "household" else None,
        "village_code": village_code,
        "sex": None,
        "birth_date": None,
        "alive": True,
        "death_date": None,
        "active": True,
        "target_groups": [],
        "krs": None,
        "growth": None,
        "welfare_decile": None,
        "has_birth_certificate": None,
        "has_nik": None,
        "merged_into": None,
        "source": "feed",
        "updated_from": "",
        "source_at": None,
    }


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _window(group: str, start: Any, end: Any, **extra: Any) -> dict[str, Any]:
    return {"group": group, "start": _iso(_day(start)), "end": _iso(_day(end)), **extra}


def merge_groups(
    old: Iterable[Mapping[str, Any]], new: Iterable[Mapping[str, Any]], cutoff: date
) -> list[dict[str, Any]]:
    """The windows after the registry said ``new`` are the groups held on ``cutoff``."""
    fresh = [_window(n["group"], n.get("start"), n.get("end")) for n in new]
    kept: list[dict[str, Any]] = []
    for w in old:
        start, end = _day(w.get("start")), _day(w.get("end"))
        same = [f for f in fresh if f["group"] == w["group"]]
        if same:
            for f in same:  # details only this service adds (expected_end) survive
                if f["start"] == w.get("start"):
                    f.update({k: v for k, v in w.items() if k not in f})
            starts = [_day(f["start"]) for f in same]
            if end is not None and all(s is not None and end < s for s in starts):
                kept.append(dict(w))  # an earlier window of the group, e.g. a past pregnancy
            continue
        if (end is not None and end < cutoff) or (start is not None and start > cutoff):
            kept.append(dict(w))  # history, or a window still to come (catin)
        elif start is None or start < cutoff:
            kept.append({**w, "end": _iso(cutoff - _DAY)})
    return sorted(kept + fresh, key=lambda w: (w["group"], w["start"] or "", w["end"] or "~"))


def _replace_catin(groups: list[dict[str, Any]], planned: date) -> list[dict[str, Any]]:
    start = planned - relativedelta(months=CATIN_LEAD_MONTHS)
    window = _window("catin", start, planned)
    others = [g for g in groups if g["group"] != "catin" or (_day(g["end"]) or date.max) < start]
    return sorted([*others, window], key=lambda w: (w["group"], w["start"] or ""))


def _pregnancy(groups: list[dict[str, Any]], payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    start = _iso(_day(payload.get("start_date")))
    end_date = _day(payload.get("end_date"))
    end = _iso(end_date - _DAY) if end_date else None
    expected = _iso(_day(payload.get("expected_date")))
    out, found = [], False
    for g in groups:
        if g["group"] == "ibu_hamil" and g["start"] == start:
            found = True
            g = {**g, "expected_end": expected}
            if end is not None:
                g["end"] = end
        out.append(g)
    if not found and start is not None:
        out.append({**_window("ibu_hamil", start, end), "expected_end": expected})
    return sorted(out, key=lambda w: (w["group"], w["start"] or ""))


@dataclass
class Batch:
    """What one feed batch did: the subjects changed and the follow-ups for SQL."""

    states: dict[str, State]
    changed: set[str] = field(default_factory=set)
    households: set[str] = field(default_factory=set)
    merges: list[tuple[str, str]] = field(default_factory=list)
    lokus: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)

    def _subject(self, subject_id: str, kind: str, village_code: str) -> State:
        state = self.states.get(subject_id)
        if state is None:
            state = blank(subject_id, kind, village_code)
            self.states[subject_id] = state
        return state

    def _stale(self, state: State, position: str) -> bool:
        return position_key(state["updated_from"]) >= position_key(position)

    def _touch(self, state: State, position: str, at: datetime) -> None:
        state["updated_from"] = position
        state["source_at"] = at
        self.changed.add(state["id"])

    def apply(self, kind: str, payload: Mapping[str, Any], position: str, at: datetime) -> None:
        """Apply one event; events already reflected (by position) change nothing."""
        on = local_date(at)
        if kind in PERSON_EVENTS:
            self._person(kind, payload, position, at, on)
        elif kind in HOUSEHOLD_EVENTS:
            self._household(payload, position, at)
        elif kind == "krs.assessed":
            self._krs(payload, position, at)
        elif kind in LIFE_EVENTS:
            self._life_event(payload, position, at)
        elif kind in MEASUREMENT_EVENTS:
            self._measurement(payload, position, at)
        elif kind == "person.merged":
            self._merged(payload, position, at)
        elif kind in LOKUS_EVENTS:
            key = (payload["village_code"], int(payload["year"]))
            self.lokus[key] = {
                "village_code": key[0],
                "year": key[1],
                "decree_number": payload.get("decree_number"),
                "decree_date": _iso(_day(payload.get("decree_date"))),
                "revoked": kind == "lokus.revoked",
            }

    def _person(
        self, kind: str, p: Mapping[str, Any], position: str, at: datetime, on: date
    ) -> None:
        state = self._subject(str(p["person_id"]), "person", p["village_code"])
        if self._stale(state, position):
            return
        if state["household_id"]:
            self.households.add(state["household_id"])
        death = _day(p.get("death_date"))
        state.update(
            household_id=str(p["household_id"]) if p.get("household_id") else None,
            village_code=p["village_code"],
            sex=p.get("sex"),
            birth_date=_iso(_day(p.get("birth_date"))),
            alive=bool(p.get("alive", death is None)),
            death_date=_iso(death),
            has_nik=p.get("has_nik"),
            has_birth_certificate=p.get("has_birth_certificate"),
            target_groups=merge_groups(
                state["target_groups"], p.get("target_groups") or [], min(on, death or on)
            ),
        )
        for household in (state["household_id"], p.get("from_household_id")):
            if household:
                self.households.add(str(household))
        self._touch(state, position, at)

    def _household(self, p: Mapping[str, Any], position: str, at: datetime) -> None:
        state = self._subject(str(p["household_id"]), "household", p["village_code"])
        if self._stale(state, position):
            return
        conditions = p.get("conditions") or {}
        state.update(
            village_code=p["village_code"],
            active=bool(p.get("active", True)),
            welfare_decile=conditions.get("welfare_decile"),
        )
        self.households.add(state["id"])
        self._touch(state, position, at)

    def _krs(self, p: Mapping[str, Any], position: str, at: datetime) -> None:
        state = self._subject(str(p["household_id"]), "household", p["village_code"])
        if self._stale(state, position):
            return
        state["krs"] = {
            "is_krs": p.get("is_krs"),
            "is_target_family": p.get("is_target_family"),
            "criteria": p.get("criteria") or {},
            "assessed_on": _iso(_day(p.get("assessed_on"))),
            "rule_set": p.get("rule_set"),
        }
        self.households.add(state["id"])
        self._touch(state, position, at)

    def _life_event(self, p: Mapping[str, Any], position: str, at: datetime) -> None:
        state = self._subject(str(p["person_id"]), "person", p["village_code"])
        if self._stale(state, position):
            return
        if p.get("kind") == "marriage_plan" and p.get("expected_date"):
            state["target_groups"] = _replace_catin(
                state["target_groups"], _day(p["expected_date"])
            )
        elif p.get("kind") == "pregnancy":
            state["target_groups"] = _pregnancy(state["target_groups"], p)
        else:
            return
        if state["household_id"]:
            self.households.add(state["household_id"])
        self._touch(state, position, at)

    def _measurement(self, p: Mapping[str, Any], position: str, at: datetime) -> None:
        state = self._subject(str(p["person_id"]), "person", p["village_code"])
        if self._stale(state, position):
            return
        growth = dict(state["growth"] or {})
        current_on = _day(growth.get("visit_date"))
        visit = _day(p.get("visit_date"))
        replaces_current = p.get("supersedes") and p["supersedes"] == growth.get("measurement_id")
        if not replaces_current and current_on is not None and visit is not None:
            if visit < current_on:
                return  # an older visit entered late: the latest stays
        growth.update(
            {f"latest_{k}": p.get(k) for k in GROWTH_CLASS_FIELDS},
            measurement_id=p.get("measurement_id"),
            visit_date=_iso(visit),
            muac_cm=p.get("muac_cm"),
            oedema=p.get("oedema"),
        )
        state["growth"] = growth
        self._touch(state, position, at)

    def _merged(self, p: Mapping[str, Any], position: str, at: datetime) -> None:
        removed, kept = str(p["person_id"]), str(p["merged_into"])
        state = self._subject(removed, "person", p["village_code"])
        if self._stale(state, position):
            return
        state.update(merged_into=kept, alive=False)
        if state["household_id"]:
            self.households.add(state["household_id"])
        self.merges.append((removed, kept))
        self._touch(state, position, at)


def subject_ids(kind: str, payload: Mapping[str, Any]) -> list[str]:
    """The subjects an event may change, to load them before applying a batch."""
    if kind in PERSON_EVENTS or kind in LIFE_EVENTS or kind in MEASUREMENT_EVENTS:
        return [str(payload["person_id"])]
    if kind in HOUSEHOLD_EVENTS or kind == "krs.assessed":
        return [str(payload["household_id"])]
    if kind == "person.merged":
        return [str(payload["person_id"])]
    return []


def from_lookup(found: Mapping[str, Any]) -> State:
    """A subject as ``GET /internal/subjects/{id}`` of the registry answers it."""
    state = blank(str(found["id"]), found["kind"], found["village_code"])
    growth = found.get("growth")
    household_id = found.get("household_id")
    state.update(
        household_id=str(household_id) if household_id else state["household_id"],
        sex=found.get("sex"),
        birth_date=_iso(_day(found.get("birth_date"))),
        alive=bool(found.get("alive", True)),
        death_date=_iso(_day(found.get("death_date"))),
        active=bool(found.get("active", True)),
        target_groups=[
            _window(g["group"], g.get("start"), g.get("end"))
            for g in found.get("target_groups") or []
        ],
        krs=found.get("krs"),
        growth=dict(growth) if growth else None,
        welfare_decile=found.get("welfare_decile"),
        has_birth_certificate=found.get("has_birth_certificate"),
        has_nik=found.get("has_nik"),
        merged_into=str(found["merged_into"]) if found.get("merged_into") else None,
        source="lookup",
    )
    return state


def eligibility_subject(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored subject in the shape the eligibility rules read."""
    return {
        "kind": row["kind"],
        "sex": row["sex"],
        "birth_date": row["birth_date"],
        "target_groups": row["target_groups"],
        "krs": row["krs"],
        "growth": row["growth"],
        "welfare_decile": row["welfare_decile"],
        "has_birth_certificate": row["has_birth_certificate"],
        "has_nik": row["has_nik"],
    }
