"""The staging SQL against the registry's own rules: the keyed hash it computes is
``common.pii.lookup_hash``, and it rejects exactly the NIKs ``nik_rules.validate_nik``
rejects (with the row's birth date and sex), for a few hundred mutated NIKs."""

import asyncio
import random
from datetime import date
from pathlib import Path

from bench.gen_dukcapil_extract import build_extract, regency_villages, write_csv
from common.pii import lookup_hash
from kkb.bootstrap import as_service
from services.registry.dukcapil.extract import read_layout
from services.registry.dukcapil.staging import stage_file
from services.registry.persons.crypto import pii_codec
from services.registry.persons.nik_rules import validate_nik

REGENCY = "61.04"
TODAY = date(2026, 7, 1)
# validate_nik's codes and the import's reasons for the same fault.
REASON_OF = {
    "nik_not_digits": "nik_invalid",
    "nik_wrong_length": "nik_invalid",
    "nik_province_unknown": "nik_province_unknown",
    "nik_regency_invalid": "nik_region_invalid",
    "nik_district_invalid": "nik_region_invalid",
    "nik_serial_zero": "nik_serial_zero",
    "nik_date_invalid": "nik_date_invalid",
    "nik_birth_date_mismatch": "nik_birth_date_mismatch",
    "nik_sex_mismatch": "nik_sex_mismatch",
}


def mutate(nik: str, rng: random.Random) -> str:
    kind = rng.randrange(9)
    if kind == 0:
        return nik
    if kind == 1:
        return "99" + nik[2:]
    if kind == 2:
        return nik[:2] + "00" + nik[4:]
    if kind == 3:
        return nik[:12] + "0000"
    if kind == 4:
        day = int(nik[6:8])
        return nik[:6] + f"{(day + 40) % 80 or 1:02d}" + nik[8:]
    if kind == 5:
        return nik[:6] + f"{rng.randrange(32, 40):02d}" + nik[8:]
    if kind == 6:
        return nik[:8] + f"{rng.randrange(1, 13):02d}" + nik[10:]
    if kind == 7:
        return nik[:15]
    return nik[:3] + "x" + nik[4:]


async def _stage(db_url: str, path: Path) -> tuple[list[dict], list[str]]:
    async with as_service(db_url, "registry") as conn:
        provinces = [
            r["code"] for r in await conn.fetch("SELECT code FROM region WHERE level = 'province'")
        ]
        await stage_file(
            conn,
            path,
            read_layout(path),
            regency_code=REGENCY,
            today=TODAY,
            hash_key=pii_codec().hash_key,
            batch_rows=1000,
        )
        rows = [dict(r) for r in await conn.fetch("SELECT * FROM dk_row ORDER BY row_no")]
        return rows, provinces


def test_staging_hash_and_nik_checks_agree_with_the_registry(db_url, tmp_path):
    extract, _ = build_extract(REGENCY, 120, regency_villages(REGENCY), 21, TODAY)
    rng = random.Random(5)
    extract.columns["NIK"] = [mutate(n, rng) for n in extract.columns["NIK"]]
    path = tmp_path / "mutated.csv"
    write_csv(extract, path)
    rows, provinces = asyncio.run(_stage(db_url, path))
    assert len(rows) == len(extract)
    key = pii_codec().hash_key
    checked = 0
    for row, nik, born, sex in zip(
        rows,
        extract.columns["NIK"],
        extract.columns["TGL_LHR"],
        extract.columns["JENIS_KLMIN"],
        strict=True,
    ):
        birth = date(int(born[6:]), int(born[3:5]), int(born[:2]))
        check = validate_nik(
            nik,
            today=TODAY,
            known_provinces=provinces,
            birth_date=birth,
            sex=1 if sex == "LAKI-LAKI" else 2,
        )
        want = {REASON_OF[e.code] for e in check.errors}
        got = {r for r in row["reasons"] if r.startswith("nik_") and r in REASON_OF.values()}
        got -= {"nik_duplicate", "nik_in_two_kks"}
        assert got == want, (nik, got, want)
        if len(nik) == 16 and nik.isdigit():
            assert row["nik_hash"] == lookup_hash("nik", nik, key)
            checked += 1
    assert checked > 50
