"""Interventions service benchmarks, through the gateway against real processes:

1. a 50,000-row bulk delivery (a food-aid distribution or posyandu campaign) — target < 20 s;
2. targets and gaps of one intervention for a regency of ~150,000 households — target < 1 s;
3. projection lag registry → interventions (registration to projected subject), median/p99.

    .venv/bin/python bench/bench_interventions.py [--households 150000] [--bulk-rows 50000]
        [--bulk-runs 3] [--target-runs 5] [--lag-families 200]

The subject projection of the regency is loaded by COPY from the synthetic population
generator (as the registry feed would leave it) so that 2. measures the query, not the
seeding; 3. registers real families through the registry API and reads, per family, the
time between the registry's event and the interventions transaction that projected it.
Prints one JSON line per measurement and a summary line.

Runs its own embedded PostgreSQL in a temporary folder, with shared_buffers = 1GB (the
regency's projection is ~300 MB; the default 128 MB would measure disk reads), so no
other work on a shared server holds back its feeds or shares its cache.
"""

import argparse
import asyncio
import csv
import json
import os
import random
import shutil
import statistics
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
from dateutil.relativedelta import relativedelta

from bench._harness import free_port, private_server
from common.clock import today
from common.ids import uuid7
from common.reference_data import reference_data_dir
from gateway.cli import add_user
from kkb import database
from kkb.bootstrap import load_reference_data
from kkb.database import connect, service_url
from kkb.migrate import upgrade_all
from kkb.stack import Stack
from services.registry.seed.population import UNSAFE_SANITATION, UNSAFE_WATER, generate

REGENCY = "61.04"
APPS = ("gateway", "registry", "interventions", "reporting")
BODY_LIMIT = 64 * 1024 * 1024
TARGET_CODES = ("S2", "S7", "N2", "N7", "N9", "S6")


def emit(record: dict[str, Any]) -> None:
    print(json.dumps(record, default=str), flush=True)


def regency_villages(regency_code: str) -> list[str]:
    path = reference_data_dir() / "wilayah" / "wilayah.csv"
    with path.open(encoding="utf-8") as f:
        return [
            row["code"]
            for row in csv.DictReader(f)
            if row["level"] == "village" and row["code"].startswith(regency_code + ".")
        ]


class CpuMeter:
    """CPU seconds spent by the private PostgreSQL cluster and the app processes: on a
    busy machine wall time mostly measures waiting for a core, CPU time the work."""

    def __init__(self, data_dir: Path, app_pids: list[int]) -> None:
        # kkb.database keeps the embedded cluster in <data dir>/pg
        self.postmaster = int((data_dir / "pg" / "postmaster.pid").read_text().split()[0])
        self.app_pids = app_pids
        self.hz = os.sysconf("SC_CLK_TCK")

    def _stat(self, pid: int) -> list[str] | None:
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None

    def seconds(self) -> float:
        ticks = 0
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            fields = self._stat(int(pid))
            if fields is None:
                continue
            is_backend = int(fields[1]) == self.postmaster
            if is_backend or int(pid) in self.app_pids:
                ticks += int(fields[11]) + int(fields[12])
        own = self._stat(self.postmaster)
        if own is not None:  # includes finished parallel workers
            ticks += sum(int(own[i]) for i in (11, 12, 13, 14))
        return ticks / self.hz


def user_client(stack: Stack, db_url: str, role: str, region: str) -> httpx.Client:
    """A gateway client signed in as a new user (as tests/auth_helpers.py does)."""
    username, password = f"bench-{uuid.uuid4().hex[:8]}", "bench-password-123"
    asyncio.run(
        add_user(service_url(db_url, "gateway"), username, password, role, region, None, None)
    )
    gateway = stack.url("gateway")
    token = httpx.post(
        f"{gateway}/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
    ).json()["access_token"]
    return httpx.Client(base_url=gateway, timeout=60, headers={"Authorization": f"Bearer {token}"})


# --- the projection of a synthetic regency ------------------------------------------------


def _iso(day: Any) -> str | None:
    return None if day is None else str(day)


def _months(day: date, n: int) -> date:
    return day + relativedelta(months=n)


def subject_rows(households: int, seed: int, as_of: date) -> tuple[list[tuple], list[tuple]]:
    """Persons and households as the feed would project them, plus KRS by the main
    criteria (unsafe water or sanitation, wife under 20 or 35–40) for target families."""
    population = generate(REGENCY, households, regency_villages(REGENCY), seed=seed, as_of=as_of)
    hh, pp = population.households, population.persons
    n_h = len(hh.id)
    births = pp.birth_date.astype("datetime64[D]").astype(object)
    ages = np.array([(as_of - b).days / 365.25 for b in births])
    female, married = pp.sex == 2, pp.marital_status == 2
    pus = female & married & (ages >= 15) & (ages < 50)
    under_five = ages < 5
    pregnant_idx = pp.household_index[population.pregnancies.person_index]
    target = np.zeros(n_h, bool)
    np.logical_or.at(target, pp.household_index[pus | under_five], True)
    target[pregnant_idx] = True
    too_young, too_old = np.zeros(n_h, bool), np.zeros(n_h, bool)
    np.logical_or.at(too_young, pp.household_index[pus & (ages < 20)], True)
    np.logical_or.at(too_old, pp.household_index[pus & (ages >= 35) & (ages <= 40)], True)
    unsafe_water = np.isin(hh.water_source, UNSAFE_WATER)
    unsafe_sanitation = np.isin(hh.sanitation, UNSAFE_SANITATION)
    is_krs = target & (unsafe_water | unsafe_sanitation | too_young | too_old)

    groups: list[list[dict]] = [[] for _ in range(len(pp.id))]
    for n, birth in enumerate(births):
        if ages[n] < 6:
            groups[n].append(
                {
                    "group": "baduta",
                    "start": _iso(birth),
                    "end": _iso(_months(birth, 24) - timedelta(1)),
                }
            )
            groups[n].append(
                {
                    "group": "balita",
                    "start": _iso(birth),
                    "end": _iso(_months(birth, 60) - timedelta(1)),
                }
            )
        if female[n] and 9 <= ages[n] < 21:
            groups[n].append(
                {
                    "group": "remaja_putri",
                    "start": _iso(_months(birth, 120)),
                    "end": _iso(_months(birth, 240) - timedelta(1)),
                }
            )
        if pus[n]:
            groups[n].append(
                {
                    "group": "pus",
                    "start": _iso(_months(birth, 180)),
                    "end": _iso(_months(birth, 600) - timedelta(1)),
                }
            )
    preg = population.pregnancies
    for idx, start, due in zip(
        preg.person_index, preg.start_date, preg.expected_delivery_date, strict=True
    ):
        groups[idx].append(
            {"group": "ibu_hamil", "start": str(start), "end": None, "expected_end": str(due)}
        )
    marriages = population.planned_marriages
    for idx, planned in zip(marriages.person_index, marriages.planned_date, strict=True):
        day = planned.astype("datetime64[D]").astype(object)
        groups[idx].append({"group": "catin", "start": _iso(_months(day, -3)), "end": _iso(day)})

    krs = [
        orjson.dumps(
            {
                "is_krs": bool(is_krs[h]),
                "is_target_family": bool(target[h]),
                "criteria": {
                    "unsafe_water": bool(unsafe_water[h]),
                    "unsafe_sanitation": bool(unsafe_sanitation[h]),
                    "too_young": bool(too_young[h]),
                    "too_old": bool(too_old[h]),
                },
                "assessed_on": str(as_of),
            }
        ).decode()
        for h in range(n_h)
    ]
    deciles = hh.welfare_decile.tolist()
    house_rows = [
        (
            uuid.UUID(hh.id[h]),
            "household",
            uuid.UUID(hh.id[h]),
            hh.village_code[h],
            None,
            None,
            "[]",
            krs[h],
            deciles[h],
            None,
            None,
        )
        for h in range(n_h)
    ]
    person_rows = [
        (
            uuid.UUID(pp.id[n]),
            "person",
            uuid.UUID(pp.household_id[n]),
            hh.village_code[pp.household_index[n]],
            int(pp.sex[n]),
            births[n],
            orjson.dumps(groups[n]).decode(),
            None,  # a person's KRS status is read from its household
            deciles[pp.household_index[n]],
            pp.nik[n] is not None,
            bool(ages[n] > 1),
        )
        for n in range(len(pp.id))
    ]
    return house_rows, person_rows


SUBJECT_COLUMNS = (
    "id",
    "kind",
    "household_id",
    "village_code",
    "sex",
    "birth_date",
    "target_groups",
    "krs",
    "welfare_decile",
    "has_nik",
    "has_birth_certificate",
)


async def load_projection(db_url: str, rows: list[tuple]) -> float:
    conn = await connect(service_url(db_url, "interventions"))
    started = time.perf_counter()
    try:
        await conn.copy_records_to_table(
            "subject", schema_name="interventions", records=rows, columns=SUBJECT_COLUMNS
        )
        # Households hold their members' groups (as the consumer's refresh leaves them).
        await conn.execute(
            """
            UPDATE interventions.subject h SET target_groups = g.groups
            FROM (SELECT p.household_id, jsonb_agg(e) AS groups
                  FROM interventions.subject p, jsonb_array_elements(p.target_groups) e
                  WHERE p.kind = 'person' GROUP BY p.household_id) g
            WHERE h.id = g.household_id AND h.kind = 'household'
            """
        )
        await conn.execute(
            """
            INSERT INTO interventions.subject_group (subject_id, kind, grp, start_day, end_day)
            SELECT s.id, s.kind, g->>'group', coalesce((g->>'start')::date, '-infinity'),
                   coalesce((g->>'end')::date, 'infinity')
            FROM interventions.subject s, jsonb_array_elements(s.target_groups) g
            """
        )
        await conn.execute("VACUUM ANALYZE interventions.subject")
        await conn.execute("VACUUM ANALYZE interventions.subject_group")
    finally:
        await conn.close()
    return time.perf_counter() - started


async def background_deliveries(db_url: str, as_of: date, seed: int) -> int:
    """Earlier deliveries the targets query joins: S2 for most pregnant women, S7 visits
    for most children under five."""
    rng = random.Random(seed)
    conn = await connect(service_url(db_url, "interventions"))
    try:
        subjects = await conn.fetch(
            """
            SELECT id, household_id, village_code, birth_date,
                   target_groups @> '[{"group": "ibu_hamil"}]' AS pregnant
            FROM interventions.subject WHERE kind = 'person'
              AND (target_groups @> '[{"group": "ibu_hamil"}]'
                   OR birth_date > CAST($1 AS date) - 1826)
            """,
            as_of,
        )
        rows = []
        for s in subjects:
            code, unit, qty, times = (
                ("S2", "tablets", 30, 2) if s["pregnant"] else ("S7", "visits", 1, 4)
            )
            if rng.random() > 0.7:
                continue
            for _ in range(rng.randint(1, times)):
                day = as_of - timedelta(days=rng.randrange(200))
                if s["birth_date"] and day < s["birth_date"]:
                    continue
                rows.append(
                    (
                        uuid7(),
                        "recorded",
                        s["id"],
                        s["id"],
                        "person",
                        s["household_id"],
                        s["village_code"],
                        code,
                        1,
                        day,
                        qty,
                        unit,
                        "health",
                        "APBD",
                        "bench",
                    )
                )
        await conn.copy_records_to_table(
            "delivery",
            schema_name="interventions",
            records=rows,
            columns=(
                "id",
                "kind",
                "subject_id",
                "counted_subject_id",
                "subject_kind",
                "household_id",
                "village_code",
                "intervention_code",
                "catalogue_version",
                "delivered_on",
                "quantity",
                "unit",
                "sector",
                "funding_source",
                "recorded_by",
            ),
        )
        await conn.execute("ANALYZE interventions.delivery")
        return len(rows)
    finally:
        await conn.close()


async def children_for_bulk(db_url: str, as_of: date, n: int) -> list[str]:
    conn = await connect(service_url(db_url, "interventions"))
    try:
        rows = await conn.fetch(
            "SELECT id FROM interventions.subject WHERE kind = 'person'"
            " AND birth_date > CAST($1 AS date) - 1790 AND birth_date <= $1 ORDER BY id LIMIT $2",
            as_of,
            n,
        )
        return [str(r["id"]) for r in rows]
    finally:
        await conn.close()


# --- the three measurements ------------------------------------------------------------------


def bench_bulk(
    client: httpx.Client, children: list[str], rows: int, runs: int, meter: CpuMeter
) -> list[float]:
    times = []
    for run in range(runs):
        body = {
            "session": {
                "intervention_code": "S7",
                "delivered_on": today().isoformat(),
                "funding_source": "APBD",
                "organisation": "Dinas Kesehatan Ketapang",
                "reference": f"bench-{run}",
            },
            "rows": [
                {"subject_id": children[n % len(children)], "quantity": 1} for n in range(rows)
            ],
        }
        payload = orjson.dumps(body)
        cpu = meter.seconds()
        started = time.perf_counter()
        resp = client.post(
            "/v1/interventions/deliveries/bulk",
            content=payload,
            headers={"Content-Type": "application/json"},
            timeout=300,
        )
        elapsed = time.perf_counter() - started
        cpu = meter.seconds() - cpu
        report = resp.json()
        assert resp.status_code == 201, resp.text[:500]
        times.append(elapsed)
        emit(
            {
                "bench": "bulk",
                "run": run,
                "rows": rows,
                "body_mb": round(len(payload) / 1e6, 2),
                "accepted": report["accepted"],
                "rejected": report["rejected"],
                "seconds": round(elapsed, 3),
                "cpu_s": round(cpu, 2),
            }
        )
    return times


def bench_targets(client: httpx.Client, runs: int, meter: CpuMeter) -> dict[str, float]:
    medians = {}
    for code in TARGET_CODES:
        params = {"intervention": code, "region": REGENCY, "limit": 50}
        client.get("/v1/interventions/targets", params=params, timeout=60)  # warm-up
        times, cpus = [], []
        for _ in range(runs):
            cpu = meter.seconds()
            started = time.perf_counter()
            resp = client.get("/v1/interventions/targets", params=params, timeout=60)
            times.append(time.perf_counter() - started)
            cpus.append(meter.seconds() - cpu)
            assert resp.status_code == 200, resp.text[:500]
        counts = resp.json()["counts"]
        medians[code] = statistics.median(times)
        emit(
            {
                "bench": "targets",
                "intervention": code,
                "eligible": counts["eligible"],
                "behind": counts["behind"],
                "evaluation": resp.json()["evaluation"],
                "median_s": round(medians[code], 3),
                "max_s": round(max(times), 3),
                "cpu_median_s": round(statistics.median(cpus), 3),
            }
        )
    return medians


async def _lags(db_url: str, ids: list[str]) -> list[float]:
    conn = await connect(service_url(db_url, "interventions"))
    try:
        rows = await conn.fetch(
            "SELECT extract(epoch FROM projected_at - source_at) AS lag"
            " FROM interventions.subject WHERE id = ANY($1::uuid[])",
            ids,
        )
        return [float(r["lag"]) for r in rows]
    finally:
        await conn.close()


def bench_lag(operator: httpx.Client, db_url: str, families: int) -> list[float]:
    villages = regency_villages(REGENCY)
    ids = []
    for n in range(families):
        village = villages[n % len(villages)]
        district = village.replace(".", "")[:6]
        body = {
            "kk_number": f"{district}0101{20 + n % 5:02d}{(n % 9000) + 1000:04d}",
            "village_code": village,
            "members": [
                {
                    "full_name": "Lag Sintetis",
                    "sex": 2,
                    "birth_date": "1998-03-03",
                    "relationship": 1,
                },
            ],
        }
        resp = operator.post("/v1/households", json=body)
        assert resp.status_code == 201, resp.text[:300]
        ids.append(resp.json()["id"])
        time.sleep(0.05)
    deadline = time.monotonic() + 60
    while True:
        lags = asyncio.run(_lags(db_url, ids))
        if len(lags) == len(ids) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(lags) == len(ids), f"only {len(lags)} of {len(ids)} projected"
    return lags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=150_000)
    parser.add_argument("--bulk-rows", type=int, default=50_000)
    parser.add_argument("--bulk-runs", type=int, default=3)
    parser.add_argument("--target-runs", type=int, default=5)
    parser.add_argument("--lag-families", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    # A private embedded cluster, tuned (the regency's projection is ~300 MB) and measured
    # by CpuMeter.
    with private_server("interventions", {"shared_buffers": "1GB"}) as (server, data_dir):
        name = f"kkb_bench_{uuid.uuid4().hex[:8]}"
        asyncio.run(database.create_database(server.admin_url, name))
        db_url = database.with_database(server.admin_url, name)
        stack = None
        logs = Path(tempfile.mkdtemp(prefix="bench-interventions-logs-"))
        try:
            asyncio.run(database.provision(db_url))
            upgrade_all(db_url)
            asyncio.run(load_reference_data(db_url))
            stack = Stack(
                db_url,
                ports={app: free_port() for app in APPS},
                extra_env={
                    "KKB_ENV": "test",
                    "KKB_LOG_LEVEL": "WARNING",
                    "KKB_BODY_LIMIT_BYTES": str(BODY_LIMIT),
                },
                log_dir=str(logs),
            )
            stack.start(only=("gateway", "registry", "interventions"))
            stack.wait_ready(timeout_s=60)

            as_of = today()
            started = time.perf_counter()
            houses, persons = subject_rows(args.households, args.seed, as_of)
            generated = time.perf_counter() - started
            copy_s = asyncio.run(load_projection(db_url, houses + persons))
            background = asyncio.run(background_deliveries(db_url, as_of, args.seed))
            emit(
                {
                    "bench": "setup",
                    "households": len(houses),
                    "persons": len(persons),
                    "generate_s": round(generated, 1),
                    "copy_s": round(copy_s, 1),
                    "background_deliveries": background,
                }
            )

            health = user_client(stack, db_url, "health_worker", REGENCY)
            admin = user_client(stack, db_url, "admin", REGENCY)
            measured = [stack.processes[a].pid for a in ("gateway", "interventions")]
            meter = CpuMeter(data_dir, measured)
            children = asyncio.run(children_for_bulk(db_url, as_of, args.bulk_rows))
            bulk = bench_bulk(health, children, args.bulk_rows, args.bulk_runs, meter)
            targets = bench_targets(admin, args.target_runs, meter)
            lags = bench_lag(admin, db_url, args.lag_families)
            lags.sort()
            emit(
                {
                    "summary": "bench_interventions",
                    "load_average": [round(x, 1) for x in os.getloadavg()],
                    "households": len(houses),
                    "bulk_rows": args.bulk_rows,
                    "bulk_median_s": round(statistics.median(bulk), 3),
                    "bulk_target_s": 20,
                    "targets_median_s": {k: round(v, 3) for k, v in targets.items()},
                    "targets_target_s": 1,
                    "lag_families": len(lags),
                    "lag_median_s": round(statistics.median(lags), 3),
                    "lag_p99_s": round(lags[int(0.99 * (len(lags) - 1))], 3),
                    "lag_max_s": round(lags[-1], 3),
                }
            )
            for client in (health, admin):
                client.close()
            shutil.rmtree(logs, ignore_errors=True)
        except BaseException:
            print(f"app logs kept in {logs}", flush=True)
            raise
        finally:
            if stack is not None:
                stack.stop()
            asyncio.run(database.drop_database(server.admin_url, name))


if __name__ == "__main__":
    main()
