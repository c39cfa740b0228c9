"""Posyandu upload speed: 5,000 rows of registered children through the gateway.

Seeds a regency through the bulk path, picks children under five (by NIK where they have
one, else by registry id), writes e-PPGBM-style CSV files and times
``POST /v1/growth/uploads`` end to end (client → gateway → registry → PostgreSQL):

1. the first session (cold: first upload of the process),
2. a second session one day later (warm),
3. the first file sent again: every row refused as already recorded (the reject path).

Target: 5,000 rows in under 5 s.

    .venv/bin/python -m bench.bench_growth_upload [--rows 5000] [--households 16000]
"""

import argparse
import asyncio
import json
import os
import time
from datetime import date, timedelta
from pathlib import Path

import asyncpg
import httpx

from bench._harness import machine, running_stack, scratch_database
from common.clock import today
from common.db import plain_url
from gateway.cli import add_user
from kkb.bootstrap import as_service
from kkb.database import service_url
from services.registry.growth.age import DAYS_PER_MONTH
from services.registry.growth.who_tables import load_who_tables
from services.registry.persons.crypto import NIK_CONTEXT, pii_codec
from services.registry.seed.loader import seed_regency

REGENCY = "61.04"
PASSWORD = "bench-password-123"
HEADER = "NIK;ID Registrasi;Nama Anak;JK;Tgl Lahir;Tgl Ukur;BB;TB;Cara Ukur;LiLA;Edema;Posyandu"


async def seed_children(db_url: str, households: int, rows: int) -> tuple[list[dict], dict]:
    async with as_service(db_url, "registry") as conn:
        start = time.perf_counter()
        result = await seed_regency(conn, REGENCY, households, seed=11)
        seeded = time.perf_counter() - start
        children = await conn.fetch(
            """
            SELECT id, nik_enc, full_name, sex, birth_date FROM person
            WHERE birth_date > $1 AND birth_date < $2 AND death_date IS NULL
              AND merged_into IS NULL
            ORDER BY id LIMIT $3
            """,
            today() - timedelta(days=1790),
            today() - timedelta(days=10),
            rows,
        )
    if len(children) < rows:
        raise SystemExit(f"only {len(children)} under-fives; seed more --households")
    codec = pii_codec()
    picked = [
        {**dict(c), "nik": codec.decrypt(c["nik_enc"], NIK_CONTEXT) if c["nik_enc"] else None}
        for c in children
    ]
    info = {"households": result.households, "persons": result.persons, "seconds": seeded}
    return picked, info


def session_csv(children: list[dict], visit: date) -> str:
    """Plausible measurements: the WHO median weight and length for age and sex."""
    tables = load_who_tables()
    lines = [HEADER]
    for c in children:
        age = (visit - c["birth_date"]).days
        row, day = c["sex"] - 1, min(age, tables.len.stop)
        length = tables.len.m[row, day] * 0.97
        weight = tables.wei.m[row, day] * 0.95
        lines.append(
            ";".join(
                [
                    c["nik"] or "",
                    "" if c["nik"] else str(c["id"]),
                    c["full_name"],
                    "L" if c["sex"] == 1 else "P",
                    c["birth_date"].strftime("%d/%m/%Y"),
                    visit.strftime("%d/%m/%Y"),
                    f"{weight:.1f}".replace(".", ","),
                    f"{length:.1f}".replace(".", ","),
                    "Terlentang" if age < 731 else "Berdiri",
                    "14,5" if age / DAYS_PER_MONTH >= 6 else "",
                    "tidak",
                    "Posyandu Bench",
                ]
            )
        )
    return "\n".join(lines) + "\n"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), 0 if unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def database_pids(db_url: str) -> list[int]:
    conn = await asyncpg.connect(plain_url(db_url))
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    return [r["pid"] for r in rows]


def timed_upload(client: httpx.Client, text: str, stack, db_url: str) -> dict:
    """Wall time of the call, and the CPU time the apps and database spent on it: on a
    busy machine the wall time mostly measures waiting for a core."""
    body = text.encode()
    apps = {name: stack.processes[name].pid for name in ("gateway", "registry")}
    before = {name: cpu_seconds(pid) for name, pid in apps.items()}
    backends = asyncio.run(database_pids(db_url))
    db_before = sum(cpu_seconds(pid) for pid in backends)
    start = time.perf_counter()
    r = client.post("/v1/growth/uploads", content=body, headers={"Content-Type": "text/csv"})
    elapsed = time.perf_counter() - start
    db_cpu = sum(cpu_seconds(pid) for pid in backends) - db_before
    answer = r.json()
    return {
        "status": r.status_code,
        "bytes": len(body),
        "seconds": round(elapsed, 3),
        "cpu_seconds": {
            **{name: round(cpu_seconds(pid) - before[name], 3) for name, pid in apps.items()},
            "postgres": round(db_cpu, 3),
        },
        "stored": answer.get("stored", 0),
        "errors": len(answer.get("errors", answer.get("row_errors", []))),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--households", type=int, default=16_000)
    args = parser.parse_args()
    results: dict = {"machine": machine(), "load_average": os.getloadavg(), "rows": args.rows}
    with scratch_database("growth") as db_url:
        children, results["seed"] = asyncio.run(seed_children(db_url, args.households, args.rows))
        results["children_by_nik"] = sum(1 for c in children if c["nik"])
        asyncio.run(
            add_user(
                service_url(db_url, "gateway"),
                "bench-midwife",
                PASSWORD,
                "health_worker",
                REGENCY,
                None,
                None,
            )
        )
        first = session_csv(children, today() - timedelta(days=1))
        second = session_csv(children, today())
        with running_stack(db_url) as stack:
            gateway = stack.url("gateway")
            token = httpx.post(
                f"{gateway}/v1/auth/token",
                data={"grant_type": "password", "username": "bench-midwife", "password": PASSWORD},
            ).json()["access_token"]
            with httpx.Client(
                base_url=gateway, timeout=120, headers={"Authorization": f"Bearer {token}"}
            ) as client:
                # Opens the registry's database connection, so its backend is measured.
                warm = client.get(f"/v1/growth/children/{children[0]['id']}/measurements")
                warm.raise_for_status()
                results["first_session"] = timed_upload(client, first, stack, db_url)
                results["second_session"] = timed_upload(client, second, stack, db_url)
                results["same_file_again"] = timed_upload(client, first, stack, db_url)
    results["target_seconds"] = 5.0
    results["load_average_after"] = os.getloadavg()
    print(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
