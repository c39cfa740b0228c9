"""Where a Dukcapil import spends its time: every statement the importer sends, summed.
A profiling aid, not a benchmark (it wraps asyncpg's execute/fetch). Profiles the import
into an empty registry, then the next extract (5% changed) on top of it.

    .venv/bin/python -m bench.profile_dukcapil [PERSONS] [BATCH_ROWS]
"""

import asyncio
import os
import sys
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

import asyncpg

from bench._harness import REGENCY_SERVER, private_server, scratch_database
from bench.bench_dukcapil import AS_OF, files, one_import

TIMES: dict[str, list[float]] = defaultdict(list)
_orig = {name: getattr(asyncpg.Connection, name) for name in ("execute", "fetch", "fetchval")}


# PROFILE_EXPLAIN=<prefix>: statements starting so run under EXPLAIN (ANALYZE, BUFFERS)
# (which executes them too), and their plans are printed.
EXPLAIN = os.environ.get("PROFILE_EXPLAIN", "")


def _timed(name: str):
    original = _orig[name]

    async def call(self, query, *args, **kw):
        started = time.perf_counter()
        if EXPLAIN and name == "execute" and query.lstrip().startswith(EXPLAIN):
            plan = await _orig["fetch"](self, "EXPLAIN (ANALYZE, BUFFERS) " + query, *args)
            print("\n".join(r[0] for r in plan), flush=True)
            TIMES["EXPLAINED " + " ".join(query.split())[:100]].append(
                time.perf_counter() - started
            )
            return None
        try:
            return await original(self, query, *args, **kw)
        finally:
            key = " ".join(query.split())[:110]
            TIMES[key if name == "execute" else f"{name[5:] or 'F'} {key}"].append(
                time.perf_counter() - started
            )

    return call


def report(label: str, result: dict) -> None:
    print(f"== {label}: {result['s']} s, {result['phases']}")
    for key, times in sorted(TIMES.items(), key=lambda kv: -sum(kv[1]))[:30]:
        print(f"{sum(times):7.2f}s {len(times):4d}x  {key}")
    TIMES.clear()


def main() -> None:
    # Every statement timed: asyncpg's calls wrapped for this process only, and only when
    # run as a script (importing the module must not change asyncpg for anyone else).
    for name in _orig:
        setattr(asyncpg.Connection, name, _timed(name))
    persons = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    batch_rows = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    base, changed = files(Path(".data/bench"), persons)
    with private_server("profdk", REGENCY_SERVER) as (server, _):
        with scratch_database("profdk", server=server) as db_url:
            first = asyncio.run(one_import(db_url, base, date(2026, 6, 30), batch_rows, False))
            report("import into an empty registry", first)
            second = asyncio.run(one_import(db_url, changed, AS_OF, batch_rows, False))
            report("next extract, 5% changed", second)


if __name__ == "__main__":
    main()
