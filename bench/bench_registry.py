"""Registry bulk seed and KRS list speed.

1. Seed 100,000 households (~364,000 persons) for Ketapang through the bulk path, and
   COPY the same person rows into a plain table without indexes in the same run: the
   ratio says how much the registry adds (sealing, memberships, target groups, KRS,
   indexes, ~600,000 feed events) on top of moving the bytes. Then the daily KRS
   reassessment (``kkb krs reassess``) of those households: today, and a year on.
2. Seed a regency of 150,000 households and time the first page of ``GET /v1/krs`` over
   HTTP against the real registry process (cold, then warm), for the regency and with
   filters.

    .venv/bin/python -m bench.bench_registry [--households 100000] [--krs-households 150000]
        [--seed-only]
"""

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid
from datetime import timedelta

import httpx

from bench._harness import add_server_option, bench_server, free_port, machine, scratch_database
from common.clock import today
from common.http import IDENTITY_HEADER
from common.identity import Identity, encode_identity
from common.settings import CommonSettings
from kkb.bootstrap import as_service
from kkb.stack import Stack
from services.registry.risk.bulk import reassess_region
from services.registry.seed.loader import seed_regency, villages_of
from services.registry.seed.population import COPY_COLUMNS, generate, to_copy_rows

REGENCY = "61.04"
PLAIN_PERSON_DDL = """
    CREATE TABLE plain_person (
        id uuid, household_id uuid, nik text, full_name text, sex smallint,
        birth_place text, birth_date date, relationship smallint, marital_status smallint,
        religion smallint, education smallint, occupation smallint, mother_nik text,
        mother_name text
    )
"""


async def plain_copy_seconds(db_url: str, households: int) -> tuple[float, int]:
    async with as_service(db_url, "registry") as conn:
        villages = await villages_of(conn, REGENCY)
        population = generate(REGENCY, households, villages, 1, as_of=today())
        rows = list(to_copy_rows(population, "person"))
        await conn.execute(PLAIN_PERSON_DDL)
        start = time.perf_counter()
        await conn.copy_records_to_table(
            "plain_person", records=rows, columns=list(COPY_COLUMNS["person"])
        )
        elapsed = time.perf_counter() - start
        await conn.execute("DROP TABLE plain_person")
    return elapsed, len(rows)


async def reassess(db_url: str, days_later: int) -> dict:
    """The daily KRS job over the seeded regency, as of ``days_later`` days after today."""
    async with as_service(db_url, "registry") as conn:
        start = time.perf_counter()
        result = await reassess_region(conn, today() + timedelta(days=days_later), REGENCY)
        wall = time.perf_counter() - start
    return {
        "as_of": str(result.as_of),
        "households": result.households,
        "changed_and_published": result.changed,
        "seconds": round(wall, 2),
        "phases": result.seconds,
    }


async def seed(db_url: str, households: int) -> dict:
    async with as_service(db_url, "registry") as conn:
        start = time.perf_counter()
        result = await seed_regency(conn, REGENCY, households, seed=1)
        wall = time.perf_counter() - start
    return {
        "households": result.households,
        "persons": result.persons,
        "life_events": result.life_events,
        "krs_families": result.krs_families,
        "target_families": result.target_families,
        "feed_events": result.events,
        "seconds": round(wall, 2),
        "phases": result.seconds,
    }


def officer_client(base_url: str) -> httpx.Client:
    secret = CommonSettings().internal_secret

    def sign(request: httpx.Request) -> None:
        identity = Identity(
            sub="bench:regency_officer",
            role="regency_officer",
            region=REGENCY,
            pii=True,
            purpose="case_review",
            request_id=uuid.uuid4().hex,
        )
        request.headers[IDENTITY_HEADER] = encode_identity(identity, secret)

    return httpx.Client(base_url=base_url, timeout=30, event_hooks={"request": [sign]})


def time_page(client: httpx.Client, params: dict, repeat: int) -> dict:
    samples = []
    first = None
    for _ in range(repeat):
        start = time.perf_counter()
        r = client.get("/v1/krs", params=params)
        samples.append((time.perf_counter() - start) * 1000)
        r.raise_for_status()
        first = first or r.json()
    return {
        "params": params,
        "items": len(first["items"]),
        "cold_ms": round(samples[0], 1),
        "warm_median_ms": round(statistics.median(samples[1:]), 1),
        "warm_max_ms": round(max(samples[1:]), 1),
        "next_cursor": bool(first["next_cursor"]),
    }


def krs_list(db_url: str, repeat: int) -> list[dict]:
    stack = Stack(
        db_url,
        ports={"registry": free_port()},
        extra_env={"KKB_LOG_LEVEL": "WARNING"},
    )
    stack.start(only=("registry",))
    try:
        stack.wait_ready(timeout_s=60)
        with officer_client(stack.url("registry")) as client:
            first = client.get("/v1/krs", params={"limit": 50}).json()
            return [
                time_page(client, {"limit": 50}, repeat),
                time_page(client, {"limit": 50, "cursor": first["next_cursor"]}, repeat),
                time_page(client, {"limit": 50, "village": "61.04.16"}, repeat),
                time_page(client, {"limit": 50, "criterion": "too_many"}, repeat),
                time_page(client, {"limit": 500}, repeat),
            ]
    finally:
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--krs-households", type=int, default=150_000)
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument(
        "--seed-only", action="store_true", help="only part 1 (the seed and its plain COPY)"
    )
    add_server_option(parser)
    args = parser.parse_args()
    results: dict = {"machine": machine(), "server": args.server, "load_average": os.getloadavg()}
    with (
        bench_server(args.server, "registry") as server,
        scratch_database("registry_seed", server=server) as db_url,
    ):
        plain, rows = asyncio.run(plain_copy_seconds(db_url, args.households))
        seeded = asyncio.run(seed(db_url, args.households))
        results["seed"] = {
            **seeded,
            "plain_copy_person_rows": rows,
            "plain_copy_seconds": round(plain, 2),
            "ratio_to_plain_copy": round(seeded["seconds"] / plain, 1),
        }
        # The same day again (nothing changes), then a year on (ages moved).
        results["krs_reassess"] = [
            asyncio.run(reassess(db_url, 0)),
            asyncio.run(reassess(db_url, 365)),
        ]
    if not args.seed_only:
        with (
            bench_server(args.server, "registry_krs") as server,
            scratch_database("registry_krs", server=server) as db_url,
        ):
            results["krs_seed"] = asyncio.run(seed(db_url, args.krs_households))
            results["krs_list"] = krs_list(db_url, args.repeat)
    results["load_average_after"] = os.getloadavg()
    print(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
