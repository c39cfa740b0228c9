"""A random population written straight into reporting's read models (no services), for
checking that two ways of computing the same figures agree on awkward data: month-end
and leap-day births, moves, deaths, merges, overlapping target windows, same-day KRS
verifications and measurements, superseded rows, voided and household deliveries.

Everything lives in the made-up province 91, in its own database.
"""

import random
import uuid
from datetime import date, timedelta
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting.engine.targets import TARGETS, TPK_HOUSEHOLD_GROUP, TPK_PERSON_GROUPS

VILLAGES = ("91.01.01.1001", "91.01.01.1002", "91.01.02.2001", "91.02.01.1001")
SCOPES = ("", "91", "91.01", "91.01.01", "91.01.01.1001")
GROUPS = (
    "ibu_hamil",
    "catin",
    "pus",
    "ibu_pasca_persalinan",
    "remaja_putri",
    "balita",
    "baduta",
    "lansia",
)
WFL = ("normal", "normal", "wasted", "severely_wasted", "overweight", None)
PERIODS = (
    (date(2024, 2, 1), date(2024, 2, 29)),
    (date(2025, 1, 1), date(2025, 1, 31)),
    (date(2025, 2, 1), date(2025, 2, 28)),
    (date(2025, 12, 1), date(2025, 12, 31)),
    (date(2025, 1, 1), date(2025, 3, 31)),
    (date(2026, 4, 1), date(2026, 6, 30)),
    (date(2024, 1, 1), date(2024, 12, 31)),
    (date(2025, 1, 1), date(2025, 12, 31)),
    (date(2026, 1, 1), date(2026, 12, 31)),
)


class _Rows:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.position = 1000

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def pos(self) -> dict[str, int]:
        self.position += self.rng.randint(1, 3)
        return {"pos_xid": self.position // 7, "pos_id": self.position}

    def day(self, first: date, last: date) -> date:
        if self.rng.random() < 0.25:  # month ends and leap days
            month_end = self.day(first, last).replace(day=28) + timedelta(
                days=self.rng.randint(0, 3)
            )
            return min(max(month_end, first), last)
        return first + timedelta(days=self.rng.randint(0, (last - first).days))

    def maybe(self, value: Any, chance: float = 0.9) -> Any:
        return value if self.rng.random() < chance else None


def population(seed: int = 5, persons: int = 700, households: int = 300) -> dict[str, list]:
    r = _Rows(seed)
    rng = r.rng
    tables: dict[str, list[dict[str, Any]]] = {
        name: []
        for name in (
            "household",
            "krs_assessment",
            "person",
            "person_residence",
            "person_target_window",
            "measurement",
            "growth_child_period",
            "delivery",
            "tpk_visit",
        )
    }
    homes = []
    for _ in range(households):
        home = {
            "household_id": r.uuid(),
            "village_code": rng.choice(VILLAGES),
            "active": rng.random() < 0.9,
            "welfare_decile": r.maybe(rng.randint(1, 10)),
            **r.pos(),
        }
        homes.append(home)
        tables["household"].append(home)
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            tables["krs_assessment"].append(
                {
                    "household_id": home["household_id"],
                    "village_code": home["village_code"]
                    if rng.random() < 0.9
                    else rng.choice(VILLAGES),
                    "assessed_on": r.day(date(2023, 6, 1), date(2026, 9, 30)).isoformat(),
                    "is_target_family": rng.random() < 0.8,
                    "is_krs": r.maybe(rng.random() < 0.4),
                    "criteria": {
                        k: rng.random() < 0.4
                        for k in ("unsafe_water", "unsafe_sanitation", "too_young")
                        if rng.random() < 0.8
                    },
                    **r.pos(),
                }
            )
    # Same-day verifications: the later in feed order counts.
    for extra in rng.sample(tables["krs_assessment"], 20):
        tables["krs_assessment"].append({**extra, "is_krs": not extra["is_krs"], **r.pos()})

    people = []
    for _ in range(persons):
        home = rng.choice(homes) if rng.random() < 0.85 else None
        kind = rng.random()
        if kind < 0.45:
            born = r.day(date(2019, 1, 1), date(2026, 8, 31))
        elif kind < 0.75:
            born = r.day(date(1975, 1, 1), date(2012, 12, 31))
        else:
            born = r.day(date(1940, 1, 1), date(2026, 8, 31))
        village = home["village_code"] if home else rng.choice(VILLAGES)
        moved = rng.random() < 0.15
        person = {
            "person_id": r.uuid(),
            "household_id": home["household_id"] if home else None,
            "village_code": village,
            "sex": r.maybe(rng.choice((1, 2)), 0.97),
            "birth_date": r.maybe(born.isoformat(), 0.97),
            "death_date": r.day(date(2023, 1, 1), date(2026, 8, 31)).isoformat()
            if rng.random() < 0.08
            else None,
            "has_nik": r.maybe(rng.random() < 0.8),
            "has_birth_certificate": r.maybe(rng.random() < 0.7),
            "merged_into": r.uuid() if rng.random() < 0.03 else None,
            "moved": moved,
            **r.pos(),
        }
        people.append(person)
        tables["person"].append(person)
        tables["person_residence"].append(
            {
                "person_id": person["person_id"],
                "valid_from": "-infinity",
                "village_code": village if not moved else rng.choice(VILLAGES),
            }
        )
        if moved:
            for moved_on in sorted(
                {r.day(date(2023, 6, 1), date(2026, 8, 31)) for _ in range(rng.randint(1, 2))}
            ):
                tables["person_residence"].append(
                    {
                        "person_id": person["person_id"],
                        "valid_from": moved_on.isoformat(),
                        "village_code": rng.choice(VILLAGES),
                    }
                )
        for group in rng.sample(GROUPS, rng.choice((0, 0, 1, 1, 2, 3))):
            start = r.day(date(2022, 6, 1), date(2026, 8, 31))
            end = start + timedelta(days=rng.randint(0, 900))
            tables["person_target_window"].append(
                {
                    "person_id": person["person_id"],
                    "target_group": group,
                    "start_date": "-infinity" if rng.random() < 0.1 else start.isoformat(),
                    "end_date": "infinity" if rng.random() < 0.15 else end.isoformat(),
                }
            )
        child = kind < 0.45
        for _ in range(rng.choice((0, 1, 2, 4, 6)) if child else rng.choice((0, 0, 1, 2))):
            visit = r.day(max(born, date(2023, 1, 1)), date(2026, 9, 30))
            if rng.random() < 0.15:  # on the last day of a period asked about
                visit = max(born, rng.choice(PERIODS)[1])
            muac = r.maybe(round(rng.uniform(9.0, 30.0), 1), 0.6)
            if muac is not None and rng.random() < 0.2:
                muac = rng.choice((11.5, 23.5))
            row = {
                "measurement_id": r.uuid(),
                "person_id": person["person_id"],
                "village_code": village,
                "visit_date": visit.isoformat(),
                "class_wfl": rng.choice(WFL),
                "oedema": rng.random() < 0.05,
                "muac_cm": muac,
                "superseded": rng.random() < 0.1,
                **r.pos(),
            }
            tables["measurement"].append(row)
            if rng.random() < 0.3:  # a second visit the same day, later in the feed
                tables["measurement"].append(
                    {**row, "measurement_id": r.uuid(), "class_wfl": rng.choice(WFL), **r.pos()}
                )
            if rng.random() < 0.7:
                for kind_code, start in (
                    ("M", visit.replace(day=1)),
                    ("Q", visit.replace(month=(visit.month - 1) // 3 * 3 + 1, day=1)),
                    ("Y", visit.replace(month=1, day=1)),
                ):
                    tables["growth_child_period"].append(
                        {
                            "period_kind": kind_code,
                            "period_start": start.isoformat(),
                            "person_id": person["person_id"],
                            "village_code": rng.choice(VILLAGES),
                        }
                    )

    codes = [*TARGETS, "X9"]
    for _ in range(persons):
        to_person = rng.random() < 0.7
        subject = rng.choice(people) if to_person else rng.choice(homes)
        household = subject["household_id"]
        tables["delivery"].append(
            {
                "delivery_id": r.uuid(),
                "kind": rng.choice(("recorded",) * 8 + ("corrected", "voided")),
                "subject_kind": "person" if to_person else "household",
                "subject_id": subject["person_id"] if to_person else household,
                "household_id": r.maybe(household, 0.8),
                "village_code": subject["village_code"],
                "intervention_code": rng.choice(codes),
                "delivered_on": r.day(date(2023, 6, 1), date(2026, 9, 30)).isoformat(),
                "superseded": rng.random() < 0.1,
                **r.pos(),
            }
        )
    for _ in range(persons // 3):
        group = rng.choice((*TPK_PERSON_GROUPS, TPK_HOUSEHOLD_GROUP))
        to_person = group != TPK_HOUSEHOLD_GROUP or rng.random() < 0.3
        subject = rng.choice(people) if to_person else rng.choice(homes)
        tables["tpk_visit"].append(
            {
                "visit_id": r.uuid(),
                "subject_id": subject["person_id"] if to_person else subject["household_id"],
                "village_code": subject["village_code"],
                "target_group": group,
                "visited_on": r.day(date(2023, 6, 1), date(2026, 9, 30)).isoformat(),
            }
        )
    return tables


_KEYS = {
    "person_residence": ("person_id", "valid_from"),
    "person_target_window": ("person_id", "target_group", "start_date"),
    "growth_child_period": ("period_kind", "period_start", "person_id"),
}


async def write(session: AsyncSession, tables: dict[str, list[dict[str, Any]]]) -> None:
    """Insert every table's rows (one statement each, via jsonb_populate_recordset)."""
    for table, rows in tables.items():
        keys = _KEYS.get(table)
        if keys:  # one row per primary key, the first kept
            seen: dict[tuple, dict[str, Any]] = {}
            for row in rows:
                seen.setdefault(tuple(row[k] for k in keys), row)
            rows = list(seen.values())
        columns = ", ".join(rows[0])
        await session.execute(
            text(
                f"INSERT INTO {table} ({columns}) SELECT {columns}"
                f" FROM jsonb_populate_recordset(NULL::{table}, CAST(:rows AS jsonb))"
            ),
            {"rows": orjson.dumps(rows).decode()},
        )
