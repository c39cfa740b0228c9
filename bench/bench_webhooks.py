"""Webhook delivery delay: N events to 5 subscribers while one of them is down.

Events are written into the registry outbox at a steady rate (as the registry does on
writes); the real gateway's dispatcher and senders deliver them to four live receivers
(aiohttp, in another process) and to one that is down: nothing listening (``refused``)
or accepting and never answering (``hang``). Delay = receipt time - the writing
transaction's commit time, same clock.

    .venv/bin/python bench/bench_webhooks.py [--events 10000] [--rate 1000] [--down hang]
"""

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import statistics
import time
import uuid

import httpx
from aiohttp import web
from sqlalchemy import text

from bench._harness import free_port, machine, running_stack, scratch_database
from common.db import make_engine
from common.feed import EMIT_MANY_SQL
from gateway.cli import add_client
from kkb.database import service_url

VILLAGES = ("61.04.16.2007", "61.04.16.2008", "61.04.01.2011", "61.04.02.2001")


def serve_receiver(port: int, hang: bool, ready, stop) -> None:
    """One subscriber's endpoint, in its own process as a real one would be: records
    each webhook-id with its arrival time, or (``hang``) accepts and never answers."""
    hits: list[tuple[str, float]] = []

    async def hook(request: web.Request) -> web.Response:
        await request.read()
        if hang:
            await asyncio.sleep(3600)
        hits.append((request.headers["webhook-id"], time.time()))
        return web.Response(status=204)

    async def stats(_request: web.Request) -> web.Response:
        return web.json_response(hits)

    async def count(_request: web.Request) -> web.Response:
        return web.json_response(len({h[0] for h in hits}))

    async def main() -> None:
        app = web.Application()
        app.add_routes(
            [web.post("/hook", hook), web.get("/stats", stats), web.get("/count", count)]
        )
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ready.set()
        await asyncio.get_running_loop().run_in_executor(None, stop.wait)
        await runner.cleanup()

    asyncio.run(main())


def client_token(stack, db_url: str) -> httpx.Client:
    cid, secret = asyncio.run(
        add_client(service_url(db_url, "gateway"), "bench", ["webhooks", "growth:read"], "61", None)
    )
    token = httpx.post(
        f"{stack.url('gateway')}/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret},
    ).json()["access_token"]
    return httpx.Client(
        base_url=stack.url("gateway"), headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


async def produce(db_url: str, events: int, rate: float, batch: int) -> dict[str, float]:
    """Write ``events`` measurement events, ``batch`` per transaction, at ``rate`` per
    second; return each event id's commit time."""
    engine = make_engine(service_url(db_url, "registry"), "registry", pool_size=2)
    committed: dict[str, float] = {}
    start = time.time()
    written = 0
    insert = text(
        EMIT_MANY_SQL
        + """
        SELECT e, 'measurement.recorded', 'measurement', m, v,
               jsonb_build_object(
                   'measurement_id', m, 'person_id', gen_random_uuid(),
                   'household_id', gen_random_uuid(), 'village_code', v,
                   'visit_date', '2026-11-02', 'sex', 2, 'birth_date', '2024-09-17',
                   'age_days', 776, 'weight_kg', 10.1, 'height_cm', 81.5, 'measure', 'h',
                   'zlen', -2.31, 'class_len', 'stunted', 'supersedes', NULL)
        FROM (SELECT e, v, gen_random_uuid() AS m
              FROM unnest(CAST(:ids AS uuid[]), CAST(:villages AS text[])) AS u(e, v)) AS x
        """
    )
    try:
        while written < events:
            n = min(batch, events - written)
            ids = [str(uuid.uuid4()) for _ in range(n)]
            villages = [VILLAGES[(written + i) % len(VILLAGES)] for i in range(n)]
            async with engine.begin() as conn:
                await conn.execute(insert, {"ids": ids, "villages": villages})
            now = time.time()
            committed.update(dict.fromkeys(ids, now))
            written += n
            if rate > 0:
                await asyncio.sleep(max(0.0, start + written / rate - time.time()))
    finally:
        await engine.dispose()
    return committed


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux), to compare runs on a busy host."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(args: argparse.Namespace) -> dict:
    live_ports = [free_port() for _ in range(4)]
    down_port = free_port()
    stop = mp.Event()
    endpoints = [(p, False) for p in live_ports] + (
        [(down_port, True)] if args.down == "hang" else []
    )
    receivers = []
    for port, hang in endpoints:
        ready = mp.Event()
        process = mp.Process(target=serve_receiver, args=(port, hang, ready, stop), daemon=True)
        process.start()
        ready.wait(10)
        receivers.append(process)
    env = {
        "KKB_ENV": "test",
        "GATEWAY_WEBHOOK_ALLOW_LOOPBACK": "true",
        "GATEWAY_WEBHOOK_TIMEOUT_S": str(args.timeout),
        "GATEWAY_WEBHOOK_CONCURRENCY": str(args.concurrency),
    }
    try:
        with scratch_database("webhooks") as db_url, running_stack(db_url, **env) as stack:
            clients = [client_token(stack, db_url) for _ in range(5)]
            subscriptions = []
            for i, client in enumerate(clients):
                port = live_ports[i] if i < 4 else down_port
                resp = client.post(
                    "/v1/webhooks/subscriptions",
                    json={"url": f"http://127.0.0.1:{port}/hook", "event_types": ["measurement.*"]},
                )
                resp.raise_for_status()
                subscriptions.append(resp.json()["id"])
            time.sleep(1.0)  # senders pick up the new subscriptions
            gateway_pid = stack.processes["gateway"].pid
            cpu0 = cpu_seconds(gateway_pid)
            t0 = time.time()
            committed = asyncio.run(produce(db_url, args.events, args.rate, args.batch))
            produced_s = time.time() - t0
            deadline = time.time() + args.wait
            while time.time() < deadline:
                counts = [httpx.get(f"http://127.0.0.1:{p}/count").json() for p in live_ports]
                if min(counts) >= args.events:
                    break
                time.sleep(0.5)
            stats = {p: httpx.get(f"http://127.0.0.1:{p}/stats").json() for p in live_ports}
            finished_s = max(t for hits in stats.values() for _, t in hits) - t0
            gateway_cpu_s = cpu_seconds(gateway_pid) - cpu0
            down = clients[4].get(f"/v1/webhooks/subscriptions/{subscriptions[4]}").json()
    finally:
        stop.set()
        for process in receivers:
            process.join(10)
    per_subscriber = []
    everything: list[float] = []
    for port, hits in stats.items():
        first: dict[str, float] = {}
        for event_id, at in hits:
            first.setdefault(event_id, at)
        delays = [first[e] - committed[e] for e in first if e in committed]
        everything += delays
        per_subscriber.append(
            {
                "port": port,
                "received": len(first),
                "duplicates": len(hits) - len(first),
                "p50_s": round(statistics.median(delays), 3),
                "p99_s": round(percentile(delays, 0.99), 3),
                "max_s": round(max(delays), 3),
            }
        )
    return {
        "machine": machine(),
        "events": args.events,
        "rate_per_s": args.rate,
        "down_mode": args.down,
        "concurrency": args.concurrency,
        "produce_s": round(produced_s, 2),
        "all_delivered_after_s": round(finished_s, 2),
        "deliveries_per_s": round(4 * args.events / finished_s),
        "gateway_cpu_s": round(gateway_cpu_s, 1),
        "gateway_cpu_ms_per_delivery": round(1000 * gateway_cpu_s / (4 * args.events), 2),
        "load_average": os.getloadavg()[0],
        "p50_s": round(statistics.median(everything), 3),
        "p95_s": round(percentile(everything, 0.95), 3),
        "p99_s": round(percentile(everything, 0.99), 3),
        "max_s": round(max(everything), 3),
        "lost": 4 * args.events - sum(s["received"] for s in per_subscriber),
        "per_subscriber": per_subscriber,
        "down_subscriber": {
            k: down[k]
            for k in ("status", "consecutive_failures", "last_error", "pending_deliveries")
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=1000.0, help="events/s; 0 = all at once")
    parser.add_argument("--batch", type=int, default=50, help="events per transaction")
    parser.add_argument("--down", choices=["refused", "hang"], default="refused")
    parser.add_argument("--timeout", type=float, default=5.0, help="GATEWAY_WEBHOOK_TIMEOUT_S")
    parser.add_argument("--concurrency", type=int, default=32, help="per subscription")
    parser.add_argument("--wait", type=float, default=300.0)
    print(json.dumps(run(parser.parse_args()), indent=2))


if __name__ == "__main__":
    main()
