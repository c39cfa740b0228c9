"""Where a Dukcapil import spends its time: every statement the importer sends, summed.
A profiling aid, not a benchmark (it wraps asyncpg's execute/fetch).

    .venv/bin/python -m bench.profile_dukcapil 200000
"""
import asyncio
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

import asyncpg

from bench._harness import scratch_database
from bench.bench_dukcapil import files, one_import

TIMES: dict[str, list[float]] = defaultdict(list)
_orig_execute = asyncpg.Connection.execute
_orig_fetch = asyncpg.Connection.fetch


def _key(query: str) -> str:
    return " ".join(query.split())[:110]


async def execute(self, query, *args, **kw):
    t = time.perf_counter()
    try:
        return await _orig_execute(self, query, *args, **kw)
    finally:
        TIMES[_key(query)].append(time.perf_counter() - t)


async def fetch(self, query, *args, **kw):
    t = time.perf_counter()
    try:
        return await _orig_fetch(self, query, *args, **kw)
    finally:
        TIMES["F " + _key(query)].append(time.perf_counter() - t)


asyncpg.Connection.execute = execute
asyncpg.Connection.fetch = fetch

persons = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
base, _ = files(Path(".data/bench"), persons)
with scratch_database("profdk") as db_url:
    r = asyncio.run(one_import(db_url, base, date(2026, 6, 30), 100_000, False))
    print(r["s"], r["phases"])
for k, v in sorted(TIMES.items(), key=lambda kv: -sum(kv[1]))[:25]:
    print(f"{sum(v):7.2f}s {len(v):4d}x  {k}")
