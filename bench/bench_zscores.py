"""Benchmark of the WHO z-score engine on one core.

    .venv/bin/python bench/bench_zscores.py [--rows 1000000] [--seed 20240801]

Generates plausible posyandu rows (fixed seed) from the WHO medians, then times
1. the bulk path (numeric columns in, result columns out), target >= 100,000 rows/s;
2. the CSV file-to-file path (``kkb zscores IN.csv -o OUT.csv``), parsing and writing
   included;
3. the API path (``compute_rows``) on 10,000 rows, the largest request allowed.
"""

import argparse
import csv
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from services.registry.growth.bulk import compute_zscores_bulk  # noqa: E402
from services.registry.growth.csv_io import MAX_API_ROWS, compute_rows, convert_csv  # noqa: E402
from services.registry.growth.who_tables import LmsTable, load_who_tables  # noqa: E402


def _at_z(table: LmsTable, sex: np.ndarray, day: np.ndarray, z: np.ndarray) -> np.ndarray:
    col = np.clip(day - table.start, 0, table.m.shape[1] - 1)
    lv, mv, sv = (a[sex - 1, col] for a in (table.l, table.m, table.s))
    return mv * (1 + lv * sv * z) ** (1 / lv)


def make_rows(n: int, seed: int) -> dict[str, np.ndarray]:
    """Columns for n visits: z-scores drawn around the WHO median, a few bad inputs."""
    tables = load_who_tables()
    rng = np.random.default_rng(seed)
    age = rng.integers(0, 1827, n)
    sex = rng.integers(1, 3, n)
    height = np.round(_at_z(tables.len, sex, age, rng.normal(-0.9, 1.2, n)), 1)
    weight = np.round(_at_z(tables.wei, sex, age, rng.normal(-0.6, 1.1, n)), 2)
    head = np.round(_at_z(tables.hc, sex, age, rng.normal(0.0, 1.0, n)), 1)
    muac = np.round(_at_z(tables.ac, sex, np.maximum(age, 91), rng.normal(0.0, 1.0, n)), 1)
    measure = np.where(age < 731, "l", "h").astype(object)
    swap = rng.random(n)
    measure[swap < 0.05] = np.where(age[swap < 0.05] < 731, "h", "l")
    measure[(swap >= 0.05) & (swap < 0.10)] = None
    weight[rng.random(n) < 0.002] *= 1000  # typed in grams
    return {
        "sex": sex,
        "age_days": age.astype(np.float64),
        "weight_kg": weight,
        "height_cm": height,
        "measure": measure,
        "oedema": rng.random(n) < 0.002,
        "head_cm": np.where(rng.random(n) < 0.5, np.nan, head),
        "muac_cm": np.where(age < 180, np.nan, muac),
    }


def write_csv(path: Path, cols: dict[str, np.ndarray]) -> None:
    visit = np.full(len(cols["sex"]), np.datetime64("2025-08-15"))
    birth = visit - cols["age_days"].astype("timedelta64[D]")

    def text(values: np.ndarray) -> list[str]:
        return ["" if v != v else f"{v:g}" for v in values.tolist()]

    columns = [
        cols["sex"].astype(str).tolist(),
        birth.astype(str).tolist(),
        visit.astype(str).tolist(),
        text(cols["weight_kg"]),
        text(cols["height_cm"]),
        ["" if m is None else m for m in cols["measure"]],
        np.where(cols["oedema"], "y", "n").tolist(),
        text(cols["head_cm"]),
        text(cols["muac_cm"]),
    ]
    header = ["sex", "birth_date", "visit_date", "weight_kg", "height_cm", "measure"]
    header += ["oedema", "head_cm", "muac_cm"]
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(zip(*columns, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20240801)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    load_who_tables()
    cols = make_rows(args.rows, args.seed)
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}, "
        f"{os.cpu_count()} cpus, pinned to 1 core; {args.rows:,} rows"
    )

    start, cpu = time.perf_counter(), time.process_time()
    result = compute_zscores_bulk(**cols)
    bulk_s, bulk_cpu = time.perf_counter() - start, time.process_time() - cpu
    scored = int(np.count_nonzero(result.errors == 0))
    rate = args.rows / bulk_s
    print(
        f"bulk path      : {bulk_s:7.2f} s  {rate:10,.0f} rows/s  cpu {bulk_cpu:6.2f} s  "
        f"({scored:,} scored)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.csv", Path(tmp) / "out.csv"
        write_csv(src, cols)
        start, cpu = time.perf_counter(), time.process_time()
        summary = convert_csv(src, dst)
        csv_s, csv_cpu = time.perf_counter() - start, time.process_time() - cpu
        print(
            f"csv file->file : {csv_s:7.2f} s  {summary.rows / csv_s:10,.0f} rows/s  "
            f"cpu {csv_cpu:6.2f} s  "
            f"({summary.rows_with_errors:,} rows with errors, "
            f"{src.stat().st_size / 1e6:.0f} MB in, {dst.stat().st_size / 1e6:.0f} MB out)"
        )
        with src.open(newline="") as fh:
            reader = csv.DictReader(fh)
            api_rows = [row for _, row in zip(range(MAX_API_ROWS), reader, strict=False)]
    start, cpu = time.perf_counter(), time.process_time()
    compute_rows(api_rows)
    api_s, api_cpu = time.perf_counter() - start, time.process_time() - cpu
    rate = len(api_rows) / api_s
    label = f"api {len(api_rows):,} rows"
    print(f"{label:15}: {api_s:7.2f} s  {rate:10,.0f} rows/s  cpu {api_cpu:6.2f} s")


if __name__ == "__main__":
    main()
