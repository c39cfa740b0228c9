"""Feed throughput: events/s a consumer applies end to end (registry feed over real HTTP
into the interventions schema, batch + cursor in one transaction).

    .venv/bin/python bench/bench_feed.py [--events 200000] [--batch 1000 5000]
"""

import argparse
import asyncio
import json
import time

from sqlalchemy import text

from bench._harness import machine, running_stack, scratch_database
from common.db import make_engine, make_sessionmaker
from common.feed_consumer import FeedConsumer
from common.http import service_client
from common.settings import CommonSettings
from kkb.bootstrap import as_service
from kkb.database import service_url


async def write_events(db_url: str, n: int) -> None:
    async with as_service(db_url, "registry") as conn:
        await conn.execute(
            """
            INSERT INTO outbox_event (event_id, type, aggregate_type, aggregate_id,
                                      region_code, payload)
            SELECT gen_random_uuid(), 'bench.happened', 'bench', gen_random_uuid(),
                   '61.04.16.2007', jsonb_build_object('i', i, 'note', 'synthetic')
            FROM generate_series(1, $1) AS i
            """,
            n,
        )


async def consume(db_url: str, stack, n: int, batch: int, feed: str) -> float:
    engine = make_engine(service_url(db_url, "interventions"), "interventions")

    async def apply(session, events) -> None:
        await session.execute(
            text("INSERT INTO bench_seen (event_id) SELECT unnest(CAST(:ids AS uuid[]))"),
            {"ids": [e.event_id for e in events]},
        )

    client = service_client(stack.url("registry"), caller="interventions",
                            secret=CommonSettings().internal_secret)
    consumer = FeedConsumer(feed, client, make_sessionmaker(engine), apply, batch_size=batch)
    start = time.perf_counter()
    applied = 0
    while applied < n:
        applied += await consumer.poll_once()
    elapsed = time.perf_counter() - start
    await client.aclose()
    await engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, nargs="+", default=[1000, 5000])
    args = parser.parse_args()
    results = {"machine": machine(), "events": args.events, "runs": []}
    with scratch_database("feed", regions=False) as db_url, running_stack(
        db_url, only=("registry",)  # no other consumer competing for the two cores
    ) as stack:
        asyncio.run(write_events(db_url, args.events))

        async def prepare() -> None:
            async with as_service(db_url, "interventions") as conn:
                await conn.execute("CREATE TABLE bench_seen (event_id uuid)")

        asyncio.run(prepare())
        for batch in args.batch:
            elapsed = asyncio.run(consume(db_url, stack, args.events, batch, f"bench-{batch}"))
            results["runs"].append({"batch": batch, "seconds": round(elapsed, 2),
                                    "events_per_s": round(args.events / elapsed)})
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
