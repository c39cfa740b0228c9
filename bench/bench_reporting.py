"""Reporting: feed consumer throughput, write-to-indicator lag, and indicator query times
over a regency with about a million measurements.

    .venv/bin/python -m bench.bench_reporting [--children 80000] [--visits 12] [--batch 5000]
        [--keep-database | --reuse URL]

--keep-database leaves the loaded database in place (its URL is in the results);
--reuse URL then measures only the queries on it, without loading 1.2M events again
(for iterating on the query path; the recorded figures come from a full run).

Synthetic registry events are written straight into the registry's outbox (as the
registry's role, one transaction), then applied page by page with the reporting
consumer's batch function, batch and cursor in one transaction as FeedConsumer does.
Pages are read from the outbox directly (see _PAGE for why not over HTTP); the lag is
measured end to end, over HTTP, with the reporting app's own consumers. Children are spread over the
villages of Ketapang (61.04), one household each (with a KRS assessment), measured on
the 15th of every month of 2025 with classes drawn at plausible rates (stunting ~22%).
Query times are measured through the reporting app's HTTP API (the gateway's own cost is
benchmarked in bench_gateway.py), with a caller holding the personal-data right, so
that the figures are computed over the regency alone, after the read models were
vacuumed and analysed as autovacuum would have (see settle).
"""

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid

import httpx
import orjson
from sqlalchemy import text

from bench._harness import machine, running_stack, scratch_database
from common.db import make_engine, make_sessionmaker
from common.feed import FeedEvent
from common.http import IDENTITY_HEADER
from common.identity import Identity, Role, encode_identity
from common.settings import CommonSettings
from kkb.bootstrap import as_service
from kkb.database import connect, service_url
from services.reporting.engine.definitions import all_codes
from services.reporting.feeds.consumers import READ_MODELS
from services.reporting.feeds.registry import apply_registry_batch
from services.reporting.regions import region_index

REGENCY = "61.04"
YEAR = 2025

_CHILDREN = """
    CREATE TEMP TABLE bench_child AS
    SELECT gen_random_uuid() AS id, gen_random_uuid() AS household,
           ($1::text[])[1 + (i % array_length($1::text[], 1))] AS village,
           1 + (i % 2) AS sex,
           DATE '2020-06-01' + (i * 7919 % 1640) AS birth
    FROM generate_series(1, $2) AS i
"""
_INSERT = """
    INSERT INTO outbox_event (event_id, type, aggregate_type, aggregate_id, region_code, payload)
"""
_HOUSEHOLDS = (
    _INSERT
    + """
    SELECT gen_random_uuid(), 'household.registered', 'household', household, village,
           jsonb_build_object('household_id', household, 'village_code', village,
                              'active', true, 'conditions',
                              jsonb_build_object('water_source', 'piped',
                                                 'welfare_decile', 1 + (sex * 3) % 10))
    FROM bench_child
"""
)
_KRS = (
    _INSERT
    + """
    SELECT gen_random_uuid(), 'krs.assessed', 'household', household, village,
           jsonb_build_object('household_id', household, 'village_code', village,
                              'assessed_on', DATE '2025-03-01', 'rule_set', 'krs-2024.1',
                              'is_target_family', true, 'is_krs', random() < 0.33,
                              'criteria', jsonb_build_object('unsafe_water', random() < 0.2))
    FROM bench_child
"""
)
_PERSONS = (
    _INSERT
    + """
    SELECT gen_random_uuid(), 'person.registered', 'person', id, village,
           jsonb_build_object('person_id', id, 'household_id', household, 'village_code', village,
                              'sex', sex, 'birth_date', birth, 'relationship', 4,
                              'marital_status', 1, 'alive', true, 'death_date', null,
                              'has_nik', true, 'has_birth_certificate', true,
                              'target_groups', jsonb_build_array(jsonb_build_object(
                                  'group', 'balita', 'start', birth,
                                  'end', (birth + interval '60 months' - interval '1 day')::date)))
    FROM bench_child
"""
)
_MEASUREMENTS = (
    _INSERT
    + """
    SELECT gen_random_uuid(), 'measurement.recorded', 'measurement', m.id, c.village,
           jsonb_build_object(
               'measurement_id', m.id, 'person_id', c.id, 'household_id', c.household,
               'village_code', c.village, 'visit_date', m.visit, 'sex', c.sex,
               'birth_date', c.birth, 'age_days', m.visit - c.birth, 'weight_kg', 11.5,
               'height_cm', 84.0, 'measure', 'h', 'oedema', r.o < 0.002, 'muac_cm', 14.0,
               'zlen', -1.0, 'zwei', -0.5, 'zwfl', 0.1, 'zbmi', 0.1,
               'flen', r.f < 0.01, 'fwei', false, 'fwfl', r.f < 0.005, 'fbmi', false,
               'class_len', CASE WHEN r.l < 0.07 THEN 'severely_stunted'
                                 WHEN r.l < 0.22 THEN 'stunted' ELSE 'normal' END,
               'class_wei', CASE WHEN r.w < 0.15 THEN 'underweight' ELSE 'normal' END,
               'class_wfl', CASE WHEN r.h < 0.02 THEN 'severely_wasted'
                                 WHEN r.h < 0.08 THEN 'wasted'
                                 WHEN r.h > 0.96 THEN 'overweight' ELSE 'normal' END,
               'class_bmi', 'normal', 'supersedes', null)
    FROM bench_child c
    CROSS JOIN LATERAL (SELECT gen_random_uuid() AS id, make_date($1, month, 15) AS visit
                        FROM generate_series(1, $2) AS month
                        WHERE c.id IS NOT NULL) m  -- correlated: fresh ids per child
    CROSS JOIN LATERAL (SELECT random() AS l, random() AS w, random() AS h,
                               random() AS f, random() AS o
                        WHERE m.id IS NOT NULL) r
    WHERE m.visit >= c.birth
"""
)


async def write_population(db_url: str, children: int, visits: int) -> int:
    villages = region_index().villages(REGENCY)
    async with as_service(db_url, "registry") as conn, conn.transaction():
        await conn.execute(_CHILDREN, villages, children)
        for sql in (_HOUSEHOLDS, _KRS, _PERSONS):
            await conn.execute(sql)
        await conn.execute(_MEASUREMENTS, YEAR, visits)
        total = await conn.fetchval("SELECT count(*) FROM outbox_event")
    # As after any bulk load: hint bits and statistics, so the first feed pages are
    # not the ones paying for them.
    admin = await connect(db_url)
    try:
        await admin.execute("VACUUM ANALYZE registry.outbox_event")
    finally:
        await admin.close()
    return total


# The feed page as GET /internal/feed serves it, but ordered by the columns themselves:
# common.feed orders by its text alias of xid, which sorts the whole outbox per page
# (and misorders xids of different lengths); see the report. The consumer's own work,
# the batch and the cursor in one transaction, is the same as FeedConsumer's.
_PAGE = """
    SELECT xid::text AS pos_xid, id, event_id, type, aggregate_type, aggregate_id,
           region_code, occurred_at, payload::text AS payload
    FROM outbox_event
    WHERE (xid, id) > (CAST($1::text AS xid8), $2)
      AND xid < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY outbox_event.xid, outbox_event.id
    LIMIT $3
"""


async def consume(db_url: str, total: int, batch: int) -> dict:
    engine = make_engine(service_url(db_url, "reporting"), "reporting", pool_size=2)
    sessions = make_sessionmaker(engine)
    applied, xid, seq, reading = 0, "0", 0, 0.0
    started = time.perf_counter()
    async with as_service(db_url, "registry") as source:
        while applied < total:
            read_at = time.perf_counter()
            rows = await source.fetch(_PAGE, xid, seq, batch)
            events = [
                FeedEvent(
                    position=f"{r['pos_xid']}.{r['id']}",
                    event_id=str(r["event_id"]),
                    type=r["type"],
                    aggregate_type=r["aggregate_type"],
                    aggregate_id=str(r["aggregate_id"]),
                    region_code=r["region_code"],
                    occurred_at=r["occurred_at"],
                    payload=orjson.loads(r["payload"]),
                )
                for r in rows
            ]
            reading += time.perf_counter() - read_at
            if not events:
                await asyncio.sleep(0.05)
                continue
            async with sessions() as session, session.begin():
                await apply_registry_batch(session, events)
                await session.execute(
                    text(
                        "INSERT INTO feed_cursor (feed, position, events_applied)"
                        " VALUES ('registry', :p, :n) ON CONFLICT (feed) DO UPDATE"
                        " SET position = :p, events_applied = feed_cursor.events_applied + :n,"
                        " updated_at = now()"
                    ),
                    {"p": events[-1].position, "n": len(events)},
                )
            applied += len(events)
            xid, seq = rows[-1]["pos_xid"], rows[-1]["id"]
    elapsed = time.perf_counter() - started
    async with as_service(db_url, "reporting") as conn:
        measurements = await conn.fetchval("SELECT count(*) FROM measurement")
    await engine.dispose()
    await settle(db_url)
    return {
        "events": applied,
        "batch": batch,
        "seconds": round(elapsed, 1),
        "events_per_s": round(applied / elapsed),
        "reading_pages_s": round(reading, 1),
        "measurements": measurements,
    }


async def settle(db_url: str) -> None:
    """What autovacuum does after a bulk load, done at once: statistics for the planner
    and the visibility map for index-only scans. The shared development server runs
    with autovacuum off, so without this the queries would be planned on empty-table
    statistics, which production never sees for long."""
    admin = await connect(db_url)
    try:
        await admin.execute(
            "VACUUM ANALYZE " + ", ".join(f"reporting.{table}" for table in READ_MODELS)
        )
    finally:
        await admin.close()


def _caller() -> dict[str, str]:
    identity = Identity(
        sub="bench", role=Role.REGENCY_OFFICER, region=REGENCY, pii=True, request_id="bench"
    )
    return {IDENTITY_HEADER: encode_identity(identity, CommonSettings().internal_secret)}


def timed(client: httpx.Client, params: dict, repeat: int) -> dict:
    client.get("/v1/reporting/values", params=params, headers=_caller()).raise_for_status()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        resp = client.get("/v1/reporting/values", params=params, headers=_caller())
        times.append((time.perf_counter() - started) * 1000)
        resp.raise_for_status()
    return {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1)}


def queries(stack, repeat: int) -> dict:
    with httpx.Client(base_url=stack.url("reporting"), timeout=120) as client:
        one = {"indicator": "stunting_prevalence", "region": REGENCY, "period": str(YEAR)}
        every = {"indicator": all_codes(), "region": REGENCY, "period": str(YEAR)}
        villages = {**every, "region": f"{REGENCY}.16", "breakdown": "children"}
        # The target's own words: all indicators for all villages of a regency, one call.
        all_villages = {**every, "breakdown": "villages"}
        return {
            "one_indicator_regency_year": timed(client, one, repeat),
            "all_indicators_regency_year": timed(client, every, repeat),
            "all_indicators_all_villages_of_the_regency": timed(client, all_villages, repeat),
            "all_indicators_villages_of_a_district": timed(client, villages, repeat),
            "indicators": len(every["indicator"]),
            "villages": len(region_index().villages(REGENCY)),
        }


async def _write_one(db_url: str, village: str) -> None:
    child, measurement = uuid.uuid4(), uuid.uuid4()
    payload = {
        "measurement_id": str(measurement),
        "person_id": str(child),
        "village_code": village,
        "visit_date": f"{YEAR}-06-20",
        "sex": 1,
        "birth_date": "2023-01-01",
        "age_days": 901,
        "class_len": "normal",
        "class_wfl": "normal",
        "class_wei": "normal",
    }
    async with as_service(db_url, "registry") as conn:
        await conn.execute(
            _INSERT + " VALUES (gen_random_uuid(), 'measurement.recorded', 'measurement', $1, $2,"
            " $3::jsonb)",
            measurement,
            village,
            json.dumps(payload),
        )


def lag(db_url: str, stack, samples: int) -> dict:
    """From the commit of a measurement to the figure that counts it."""
    village = region_index().villages(REGENCY)[0]
    params = {"indicator": "children_measured", "region": village, "period": f"{YEAR}-06"}
    results = []
    with httpx.Client(base_url=stack.url("reporting"), timeout=30) as client:

        def measured() -> int:
            resp = client.get("/v1/reporting/values", params=params, headers=_caller())
            resp.raise_for_status()
            return resp.json()["indicators"][0]["value"]

        for _ in range(samples):
            before = measured()
            started = time.perf_counter()
            asyncio.run(_write_one(db_url, village))
            while measured() == before:
                time.sleep(0.01)
            results.append((time.perf_counter() - started) * 1000)
    return {
        "median_ms": round(statistics.median(results)),
        "max_ms": round(max(results)),
        "samples": samples,
    }


def reuse(db_url: str, repeat: int) -> dict:
    env = {"REPORTING_CONSUME_FEEDS": "false", "INTERVENTIONS_CONSUME_FEEDS": "false"}
    with running_stack(db_url, only=("reporting",), **env) as stack:
        return {"database": db_url, "queries": queries(stack, repeat)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--children", type=int, default=80000)
    parser.add_argument("--visits", type=int, default=12, help="monthly visits in the year")
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--keep-database", action="store_true", help="leave it for --reuse")
    group.add_argument("--reuse", metavar="URL", help="queries only, on a kept database")
    args = parser.parse_args()
    results: dict = {"machine": machine(), "load_average": os.getloadavg()}
    if args.reuse:
        results.update(reuse(args.reuse, args.repeat))
        results["load_average_after"] = os.getloadavg()
        print(json.dumps(results, indent=2, default=str))
        return
    with scratch_database("reporting", keep=args.keep_database) as db_url:
        if args.keep_database:
            results["database"] = db_url
        started = time.perf_counter()
        total = asyncio.run(write_population(db_url, args.children, args.visits))
        results["written"] = {"events": total, "seconds": round(time.perf_counter() - started)}
        env = {"REPORTING_CONSUME_FEEDS": "false", "INTERVENTIONS_CONSUME_FEEDS": "false"}
        with running_stack(db_url, **env) as stack:
            results["consumer"] = asyncio.run(consume(db_url, total, args.batch))
            results["queries"] = queries(stack, args.repeat)
            stack.stop_app("reporting")
            stack.extra_env["REPORTING_CONSUME_FEEDS"] = "true"
            stack.start_app("reporting")
            stack.wait_ready(timeout_s=180, only=("reporting",))
            results["write_to_indicator_lag"] = lag(db_url, stack, 10)
    results["load_average_after"] = os.getloadavg()
    print(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
