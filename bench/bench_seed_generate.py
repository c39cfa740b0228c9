"""Time the synthetic population generator and its COPY row iterators.

    .venv/bin/python bench/bench_seed_generate.py [--households 100000] [--repeat 3]

Prints one JSON line per run and a summary: generation time, rows per second, and the
time to turn every table into COPY tuples (what `kkb seed` streams to PostgreSQL).
"""

import argparse
import csv
import json
import statistics
import time
from datetime import date

from common.reference_data import reference_data_dir
from services.registry.seed.population import COPY_COLUMNS, generate, to_copy_rows


def regency_villages(regency_code: str) -> list[str]:
    path = reference_data_dir() / "wilayah" / "wilayah.csv"
    with path.open(encoding="utf-8") as f:
        return [
            row["code"]
            for row in csv.DictReader(f)
            if row["level"] == "village" and row["code"].startswith(regency_code + ".")
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regency", default="61.04")
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    villages = regency_villages(args.regency)
    generate_s, rows_s = [], []
    for run in range(args.repeat):
        start = time.perf_counter()
        population = generate(
            args.regency, args.households, villages, seed=args.seed, as_of=date(2026, 7, 1)
        )
        generated = time.perf_counter()
        rows = sum(sum(1 for _ in to_copy_rows(population, table)) for table in COPY_COLUMNS)
        done = time.perf_counter()
        generate_s.append(generated - start)
        rows_s.append(done - generated)
        print(
            json.dumps(
                {
                    "run": run,
                    "households": len(population.households),
                    "persons": len(population.persons),
                    "copy_rows": rows,
                    "generate_s": round(generated - start, 3),
                    "copy_rows_s": round(done - generated, 3),
                }
            )
        )
    print(
        json.dumps(
            {
                "summary": "bench_seed_generate",
                "households": args.households,
                "generate_s_median": round(statistics.median(generate_s), 3),
                "copy_rows_s_median": round(statistics.median(rows_s), 3),
            }
        )
    )


if __name__ == "__main__":
    main()
