"""One household with its members through the gateway, 50 concurrent clients.

    .venv/bin/python -m bench.bench_household_get [--households 20000] [--duration 15]
        [--connections 50]

A regency officer (personal-data right, purpose ``case_review``: the unmasked read, so
each request is also audited) asks ``GET /v1/households/{id}`` for households drawn at
random from a seeded Ketapang; the gateway verifies the token, checks role and region,
writes the audit entry and forwards. Target: p99 under 50 ms.
"""

import argparse
import asyncio
import json
import random
import statistics
import time

import aiohttp
import httpx

from bench._harness import free_port, machine, scratch_database
from gateway.cli import add_user
from kkb.bootstrap import as_service
from kkb.database import service_url
from kkb.stack import Stack
from services.registry.seed.loader import seed_regency

REGENCY = "61.04"
USER, PASSWORD = "bench.tpps", "bench-password-1"


async def seed(db_url: str, households: int) -> list[str]:
    async with as_service(db_url, "registry") as conn:
        await seed_regency(conn, REGENCY, households, seed=3)
        rows = await conn.fetch("SELECT id FROM household")
    return [str(r["id"]) for r in rows]


async def load(
    base: str,
    token: str,
    ids: list[str],
    connections: int,
    seconds: float,
    rate: float = 0.0,
    masked: bool = False,
):
    """``connections`` clients for ``seconds``; each sends its next request as soon as
    the last is answered (``rate`` 0: the most the stack can take), or paced so that all
    together offer ``rate`` requests/s."""
    latencies: list[float] = []
    errors = 0
    rng = random.Random(1)
    headers = {"Authorization": f"Bearer {token}"}
    if not masked:
        headers["X-KKB-Purpose"] = "case_review"
    gap = connections / rate if rate else 0.0
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(base, connector=connector, headers=headers) as session:
        deadline = time.perf_counter() + seconds

        async def worker(offset: float) -> None:
            nonlocal errors
            await asyncio.sleep(offset)
            while (start := time.perf_counter()) < deadline:
                async with session.get(f"/v1/households/{rng.choice(ids)}") as resp:
                    await resp.read()
                    if resp.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - start)
                if gap:
                    await asyncio.sleep(max(0.0, start + gap - time.perf_counter()))

        started = time.perf_counter()
        await asyncio.gather(*(worker(i * gap / connections) for i in range(connections)))
        elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "errors": errors,
        "rps": round(len(ordered) / elapsed),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument(
        "--rates",
        type=float,
        nargs="+",
        default=[0, 100, 50],
        help="requests/s offered by all clients together; 0 = as fast as answered",
    )
    parser.add_argument("--masked", action="store_true", help="no purpose: masked, unaudited")
    args = parser.parse_args()
    with scratch_database("household_get") as db_url:
        ids = asyncio.run(seed(db_url, args.households))
        asyncio.run(
            add_user(
                service_url(db_url, "gateway"),
                USER,
                PASSWORD,
                "regency_officer",
                REGENCY,
                None,
                True,
            )
        )
        stack = Stack(
            db_url,
            ports={"gateway": free_port(), "registry": free_port()},
            extra_env={
                "KKB_LOG_LEVEL": "WARNING",
                "GATEWAY_RATE_LIMIT_PER_S": "1000000",
                "GATEWAY_RATE_LIMIT_BURST": "1000000",
            },
        )
        stack.start(only=("gateway", "registry"))
        try:
            stack.wait_ready(timeout_s=60)
            base = stack.url("gateway")
            token = httpx.post(
                f"{base}/v1/auth/token",
                data={"grant_type": "password", "username": USER, "password": PASSWORD},
            ).json()["access_token"]
            asyncio.run(load(base, token, ids, args.connections, 2.0))  # warm-up
            results = [
                {
                    "offered_rps": rate or "max",
                    **asyncio.run(
                        load(base, token, ids, args.connections, args.duration, rate, args.masked)
                    ),
                }
                for rate in args.rates
            ]
        finally:
            stack.stop()
    print(
        json.dumps(
            {
                "machine": machine(),
                "households": len(ids),
                "connections": args.connections,
                "seconds": args.duration,
                "unmasked_and_audited": not args.masked,
                "runs": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
