"""Bad rows of an extract go to the rejected-rows report with their reasons; the rest is
imported, and a rejected row leaves no trace in the registry. Regency 61.08 (Landak).

The file also holds a row with a stray column, which PostgreSQL's COPY refuses: the
import then reads the file with Python's csv module and rejects just that row.
"""

import csv
import io
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from bench.gen_dukcapil_extract import COLUMNS, build_extract, regency_villages
from common.clock import today
from common.pii import lookup_hash
from services.registry.persons.crypto import pii_codec
from tests.dukcapil.conftest import fetch

REGENCY = "61.08"


def _nik(district: str, born: date, sex: int, serial: int) -> str:
    day = born.day + (40 if sex == 2 else 0)
    return f"{district}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


@pytest.fixture(scope="module")
def bad_file(tmp_path_factory) -> tuple[Path, int, dict[int, set[str]], list[str]]:
    """The file, its valid row count, expected reasons by row number, rejected NIKs."""
    extract, _ = build_extract(REGENCY, 40, regency_villages(REGENCY), 8, today())
    rows = [extract.row(i) for i in range(len(extract))]
    template = rows[0]
    district = template["NIK"][:6]
    kk_a = f"{district}0101219990"
    kk_b = f"{district}0101219991"

    def person(serial: int, **changes: str) -> dict[str, str]:
        born = date(1991, 5, 17)
        row = {
            **template,
            "NO_KK": kk_a,
            "NIK": _nik(district, born, 1, serial),
            "NAMA_LGKP": f"SINTETIS SALAH {serial}",
            "TGL_LHR": born.strftime("%d-%m-%Y"),
            "JENIS_KLMIN": "LAKI-LAKI",
            "STAT_HBKEL": "KEPALA KELUARGA",
            "TGL_MATI": "",
        }
        return {**row, **changes}

    dup = person(9001)
    twice = person(9002)
    bad = [
        (person(9003, NIK="12345"), {"nik_invalid"}),
        (person(9004, NIK=_nik(district, date(1991, 5, 18), 1, 9004)), {"nik_birth_date_mismatch"}),
        (person(9005, NIK=_nik(district, date(1991, 5, 17), 2, 9005)), {"nik_sex_mismatch"}),
        (person(9006, NO_KEL="3999"), {"region_unknown"}),
        (person(9007, NO_KAB="4", NO_KEC="16", NO_KEL="2007"), {"region_outside_regency"}),
        (dup, {"nik_duplicate"}),
        (dict(dup), {"nik_duplicate"}),
        (twice, {"nik_in_two_kks"}),
        ({**twice, "NO_KK": kk_b}, {"nik_in_two_kks"}),
        (person(9008, TGL_LHR="31-02-1991"), {"birth_date_invalid"}),
        (person(9009, TGL_MATI="01-01-1980"), {"death_before_birth"}),
        (person(9010, TGL_MATI="45-13-2020"), {"death_date_invalid"}),
        (person(9011, NAMA_LGKP=""), {"name_missing"}),
        (person(9012, NO_KK="61080000000000"), {"kk_invalid"}),
        (person(9013, TGL_LHR=(today() + timedelta(days=3)).strftime("%d-%m-%Y")), None),
    ]
    # A birth date in the future also breaks the NIK's date part: whatever else is said,
    # "birth_date_in_future" must be among the reasons.
    lines = io.StringIO()
    writer = csv.writer(lines, lineterminator="\n")
    writer.writerow(COLUMNS)
    expected: dict[int, set[str]] = {}
    for row in rows:
        writer.writerow([row[c] for c in COLUMNS])
    row_no = len(rows)
    rejected_niks = []
    for row, reasons in bad:
        row_no += 1
        writer.writerow([row[c] for c in COLUMNS])
        expected[row_no] = reasons or {"birth_date_in_future"}
        rejected_niks.append(row["NIK"])
    row_no += 1
    writer.writerow([*(template[c] for c in COLUMNS), "a stray column"])
    expected[row_no] = {"row_malformed"}
    path = tmp_path_factory.mktemp("bad") / "landak.csv"
    path.write_text(lines.getvalue(), encoding="utf-8")
    return path, len(rows), expected, rejected_niks


@pytest.fixture(scope="module")
def imported(client_for, bad_file) -> dict[str, Any]:
    path, *_ = bad_file
    admin = client_for("admin", REGENCY)
    with path.open("rb") as f:
        r = admin.post(
            "/v1/dukcapil/imports",
            files={"file": (path.name, f, "text/csv")},
            data={"regency_code": REGENCY},
        )
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 300
    while True:
        job = admin.get(f"/v1/dukcapil/imports/{r.json()['id']}").json()
        if job["status"] in ("completed", "failed"):
            break
        assert time.monotonic() < deadline
        time.sleep(0.3)
    rejected = admin.get(f"/v1/dukcapil/imports/{job['id']}/rejected.csv")
    assert rejected.status_code == 200
    return {"job": job, "rejected": list(csv.DictReader(io.StringIO(rejected.text)))}


def test_bad_rows_do_not_stop_the_import(bad_file, imported):
    _, valid, expected, _ = bad_file
    job = imported["job"]
    assert job["status"] == "completed", job
    assert job["rows_total"] == valid + len(expected)
    assert job["rows_rejected"] == len(expected)
    assert job["counts"]["persons_added"] == valid


def test_each_bad_row_is_reported_with_its_reason(bad_file, imported):
    _, _, expected, _ = bad_file
    got = {int(r["row"]): set(r["reasons"].split()) for r in imported["rejected"]}
    assert set(got) == set(expected)
    for row_no, reasons in expected.items():
        assert reasons <= got[row_no], (row_no, got[row_no])
    for r in imported["rejected"]:
        assert r["alasan"] and r["explanation"]
        assert r["nik_masked"] == "" or "•" in r["nik_masked"]


def test_rejected_rows_leave_nothing_behind(db_url, bad_file, imported):
    *_, niks = bad_file
    hashes = [lookup_hash("nik", n, pii_codec().hash_key) for n in niks if n.isdigit()]
    found = fetch(db_url, "SELECT count(*) AS n FROM person WHERE nik_hash = ANY($1)", hashes)
    assert found[0]["n"] == 0
