"""Dukcapil extract import: a 1,000,000-person extract into an empty registry, the next
month's extract with 5% changed, the same file again, against a plain COPY of the file.

    .venv/bin/python -m bench.bench_dukcapil [--persons 1000000] [--batch-rows 200000]
        [--files DIR]

Targets: each import under 30 s, the same file again under 60 s with zero changes, and
the first import within 5x a plain COPY of the same file into an empty table measured
in the same run. Extract files are generated into ``--files`` (kept for the next run).
Prints one JSON line per measurement and a summary.
"""

import argparse
import asyncio
import contextlib
import json
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from bench._harness import add_server_option, bench_server, machine, scratch_database
from bench.gen_dukcapil_extract import (
    COLUMNS,
    change_extract,
    extract_for_persons,
    write_csv,
)
from common.reference_data import REPO_ROOT
from common.settings import CommonSettings
from kkb.bootstrap import as_service
from services.registry.dukcapil.importer import ImportProgress, prepare_import, run_import

REGENCY = "61.04"
AS_OF = date(2026, 7, 1)
CHANGE_KINDS = (
    "households_added",
    "households_updated",
    "household_conflicts",
    "persons_added",
    "nik_assigned",
    "persons_updated",
    "persons_moved",
    "person_conflicts",
    "deaths_reported",
    "moved_out_reported",
    "dead_unregistered",
    "dead_in_registry",
)


def files(folder: Path, persons: int) -> tuple[Path, Path]:
    base, changed = folder / f"extract_{persons}.csv", folder / f"extract_{persons}_5pct.csv"
    if not (base.exists() and changed.exists()):
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        extract, _ = extract_for_persons(REGENCY, persons, 1, AS_OF)
        write_csv(extract, base)
        next_month, expected = change_extract(extract, 0.05, 1)
        write_csv(next_month, changed)
        print(
            json.dumps(
                {
                    "generated": len(extract),
                    "changed": expected.counts(),
                    "s": round(time.perf_counter() - started, 1),
                }
            ),
            flush=True,
        )
    return base, changed


async def plain_copy(db_url: str, path: Path) -> float:
    """COPY of the file into an empty table of text columns: the floor for any import."""
    async with as_service(db_url, "registry") as conn:
        columns = ", ".join(f'"{c.lower()}" text' for c in COLUMNS)
        await conn.execute(f"CREATE TABLE bench_copy ({columns})")
        started = time.perf_counter()
        await conn.copy_to_table("bench_copy", source=str(path), format="csv", header=True)
        elapsed = time.perf_counter() - started
        await conn.execute("DROP TABLE bench_copy")
    return elapsed


async def one_import(
    db_url: str, path: Path, extract_date: date, batch_rows: int, force: bool
) -> dict:
    phases: dict[str, float] = {}
    started = time.perf_counter()

    def progress(p: ImportProgress) -> None:
        phases[f"{p.phase}_{p.batches_done}"] = round(time.perf_counter() - started, 2)

    async with as_service(db_url, "registry") as conn:
        job, already = await prepare_import(
            conn,
            path,
            regency_code=REGENCY,
            file_name=path.name,
            source="cli",
            requested_by="bench",
            extract_date=extract_date,
            force=force,
        )
        if not already:
            job = await run_import(
                conn,
                job["id"],
                path,
                batch_rows=batch_rows,
                auto_apply_exits=False,
                hash_key=CommonSettings().hash_key.encode(),
                today=AS_OF + timedelta(days=31),
                progress=progress,
            )
    counts = job["counts"] if isinstance(job["counts"], dict) else json.loads(job["counts"])
    return {
        "s": round(time.perf_counter() - started, 2),
        "already_imported": already,
        "rows": job["rows_total"],
        "changes": sum(counts.get(k, 0) for k in CHANGE_KINDS),
        "counts": counts,
        "phases": phases,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--batch-rows", type=int, default=200_000)
    parser.add_argument("--files", type=Path, default=REPO_ROOT / ".data" / "bench")
    add_server_option(parser)
    args = parser.parse_args()

    base, changed = files(args.files, args.persons)
    print(
        json.dumps(
            {
                "machine": machine(),
                "base": base.name,
                "changed": changed.name,
                "server": args.server,
            }
        )
    )
    with contextlib.ExitStack() as resources:
        server = resources.enter_context(bench_server(args.server, "dukcapil"))
        db_url = resources.enter_context(scratch_database("dukcapil", server=server))
        copy_s = asyncio.run(plain_copy(db_url, base))
        print(json.dumps({"step": "plain_copy", "s": round(copy_s, 2)}), flush=True)
        results = {}
        steps = [
            ("import_empty", base, AS_OF - timedelta(days=30), False),
            ("import_5pct", changed, AS_OF, False),
            ("same_file_again", changed, AS_OF, False),
            ("same_file_forced", changed, AS_OF, True),
        ]
        for name, path, extract_date, force in steps:
            result = asyncio.run(one_import(db_url, path, extract_date, args.batch_rows, force))
            results[name] = result
            print(json.dumps({"step": name, **result}), flush=True)
    first = results["import_empty"]["s"]
    summary = {
        "plain_copy_s": round(copy_s, 2),
        "import_empty_s": first,
        "import_5pct_s": results["import_5pct"]["s"],
        "same_file_s": results["same_file_again"]["s"],
        "same_file_forced_s": results["same_file_forced"]["s"],
        "same_file_changes": results["same_file_forced"]["changes"],
        "ratio_import_to_copy": round(first / copy_s, 1),
        "ratio_5pct_to_copy": round(results["import_5pct"]["s"] / copy_s, 1),
        "targets": {
            "import_empty_under_30s": first < 30,
            "import_5pct_under_30s": results["import_5pct"]["s"] < 30,
            "same_file_under_60s_zero_changes": results["same_file_forced"]["s"] < 60
            and results["same_file_forced"]["changes"] == 0,
            "ratio_at_most_5": first / copy_s <= 5,
        },
    }
    print(json.dumps({"summary": summary}, indent=2))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
