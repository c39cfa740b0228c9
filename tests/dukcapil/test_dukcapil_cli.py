"""``kkb import dukcapil`` as an operator runs it (a subprocess), and an import that stops
half-way resuming where it stopped."""

import asyncio
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bench.gen_dukcapil_extract import build_extract, regency_villages, write_csv
from common.clock import today
from common.settings import CommonSettings
from kkb import database
from kkb.bootstrap import as_service
from services.registry.dukcapil.importer import ImportProgress, prepare_import, run_import
from tests.dukcapil.conftest import fetch


def kkb(db_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": db_url}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "kkb",
            "import",
            "dukcapil",
            *args,
            "--db",
            database.database_of(db_url),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def test_cli_imports_with_progress_and_refuses_nothing_twice(db_url, tmp_path):
    regency = "61.09"  # Sekadau: no other test writes there
    extract, _ = build_extract(regency, 120, regency_villages(regency), 9, today())
    path = tmp_path / "sekadau.csv"
    write_csv(extract, path)

    first = kkb(db_url, str(path), "--batch-rows", "150")
    assert first.returncode == 0, first.stderr
    progress = re.findall(r"batch (\d+)/(\d+)", first.stderr)
    done, batches = (int(v) for v in progress[-1])
    assert batches >= 2 and done == batches
    assert [int(d) for d, _ in progress] == sorted(int(d) for d, _ in progress)
    assert "done" in first.stderr.splitlines()[-1]
    report = dict(line.split()[:2] for line in first.stdout.splitlines() if line.startswith("  "))
    assert int(report["persons_added"].replace(",", "")) == len(extract)
    households = len(set(extract.columns["NO_KK"]))
    assert int(report["households_added"].replace(",", "")) == households
    assert fetch(db_url, "SELECT count(*) AS n FROM person WHERE village_code LIKE '61.09.%'")[0][
        "n"
    ] == len(extract)

    second = kkb(db_url, str(path))
    assert second.returncode == 0, second.stderr
    assert "imported already" in second.stderr
    assert fetch(db_url, "SELECT count(*) AS n FROM person WHERE village_code LIKE '61.09.%'")[0][
        "n"
    ] == len(extract)

    junk = tmp_path / "junk.csv"
    junk.write_text("NIK,NAMA\n1,X\n")
    refused = kkb(db_url, str(junk), "--regency", regency)
    assert refused.returncode == 1
    assert "extract_missing_columns" in refused.stderr


class Interrupt(Exception):
    pass


async def _import(db_url: str, path: Path, stop_after: int | None) -> dict:
    def progress(p: ImportProgress) -> None:
        if stop_after is not None and p.phase == "reconciling" and p.batches_done >= stop_after:
            raise Interrupt

    async with as_service(db_url, "registry") as conn:
        job, _ = await prepare_import(
            conn,
            path,
            regency_code="61.10",
            file_name=path.name,
            source="cli",
            requested_by="test",
            extract_date=today() - timedelta(days=1),
        )
        return await run_import(
            conn,
            job["id"],
            path,
            batch_rows=100,
            auto_apply_exits=False,
            hash_key=CommonSettings().hash_key.encode(),
            today=today(),
            progress=progress,
        )


def test_an_interrupted_import_resumes_where_it_stopped(db_url, tmp_path):
    regency = "61.10"  # Melawi
    extract, _ = build_extract(regency, 90, regency_villages(regency), 10, today())
    path = tmp_path / "melawi.csv"
    write_csv(extract, path)
    with pytest.raises(Interrupt):
        asyncio.run(_import(db_url, path, stop_after=1))
    halfway = fetch(
        db_url,
        "SELECT status, batches_done, batches_total FROM dukcapil_import"
        " WHERE regency_code = '61.10'",
    )
    assert halfway[0]["status"] == "failed"
    assert 1 <= halfway[0]["batches_done"] < halfway[0]["batches_total"]

    job = asyncio.run(_import(db_url, path, stop_after=None))
    assert job["status"] == "completed"
    assert job["batches_done"] == job["batches_total"] == halfway[0]["batches_total"]
    assert job["counts"]["persons_added"] == len(extract)
    people = fetch(
        db_url,
        "SELECT count(*) AS n, count(DISTINCT nik_hash) AS distinct_niks FROM person"
        " WHERE village_code LIKE '61.10.%'",
    )[0]
    assert people == {"n": len(extract), "distinct_niks": len(extract)}
    events = fetch(
        db_url,
        "SELECT count(*) AS n FROM outbox_event WHERE type = 'person.registered'"
        " AND region_code LIKE '61.10.%'",
    )[0]
    assert events["n"] == len(extract)
