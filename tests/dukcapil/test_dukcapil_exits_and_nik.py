"""Two paths the big scenario does not take: exits applied automatically when the
setting says so (regency 61.72, Singkawang), and a NIK from the extract going to a baby
registered with a provisional id: one record, not a duplicate (61.12, Kubu Raya)."""

import asyncio
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import orjson

from bench.gen_dukcapil_extract import (
    COLUMNS,
    MARITAL,
    RELATIONSHIP,
    SEX,
    build_extract,
    change_extract,
    regency_villages,
    write_csv,
)
from common.clock import today
from common.pii import lookup_hash
from common.settings import CommonSettings
from kkb.bootstrap import as_service
from services.registry.dukcapil.importer import prepare_import, run_import
from services.registry.persons.crypto import pii_codec
from tests.dukcapil.conftest import fetch

REGENCY = "61.12"
VILLAGE = "61.12.01.2003"
CITY = "61.72"


async def _import(
    db_url: str, path: Path, extract_date: date, auto: bool, regency: str = REGENCY
) -> dict:
    async with as_service(db_url, "registry") as conn:
        job, _ = await prepare_import(
            conn,
            path,
            regency_code=regency,
            file_name=path.name,
            source="cli",
            requested_by="test",
            extract_date=extract_date,
        )
        return await run_import(
            conn,
            job["id"],
            path,
            batch_rows=100_000,
            auto_apply_exits=auto,
            hash_key=CommonSettings().hash_key.encode(),
            today=today(),
        )


def _nik(district: str, born: date, sex: int, serial: int) -> str:
    day = born.day + (40 if sex == 2 else 0)
    return f"{district}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


def test_provisional_baby_gets_the_nik_from_the_extract(client_for, db_url, tmp_path):
    """Registered by the village operator before the birth was registered at Dukcapil."""
    district = "611201"
    kk = f"{district}1503239001"
    father_birth, mother_birth = date(1992, 4, 3), date(1996, 8, 21)
    baby_birth = today() - timedelta(days=100)
    father_nik = _nik(district, father_birth, 1, 9001)
    mother_nik = _nik(district, mother_birth, 2, 9001)
    body = {
        "kk_number": kk,
        "village_code": VILLAGE,
        "members": [
            {
                "full_name": "Sintetis Ayah",
                "sex": 1,
                "birth_date": father_birth.isoformat(),
                "relationship": 1,
                "marital_status": 2,
                "nik": father_nik,
            },
            {
                "full_name": "Sintetis Ibu",
                "sex": 2,
                "birth_date": mother_birth.isoformat(),
                "relationship": 3,
                "marital_status": 2,
                "nik": mother_nik,
            },
            {
                "full_name": "Bayi Ny. Sintetis",
                "sex": 2,
                "birth_date": baby_birth.isoformat(),
                "relationship": 4,
                "mother_index": 1,
            },
        ],
    }
    operator = client_for("village_operator", VILLAGE)
    r = operator.post("/v1/households", json=body)
    assert r.status_code == 201, r.text
    baby = next(m for m in r.json()["members"] if m["relationship"] == 4)
    assert baby["nik"] is None and baby["provisional_id"]

    baby_nik = _nik(district, baby_birth, 2, 9002)
    place = {"NO_KK": kk, "NO_PROP": "61", "NO_KAB": "12", "NO_KEC": "1", "NO_KEL": "2003"}
    people = [
        ("SINTETIS AYAH", father_nik, father_birth, 1, 1, 2),
        ("SINTETIS IBU", mother_nik, mother_birth, 2, 3, 2),
        ("SINTETIS PUTRI", baby_nik, baby_birth, 2, 4, 1),
    ]
    path = tmp_path / "kuburaya.csv"
    with path.open("w", encoding="utf-8") as f:
        f.write(",".join(COLUMNS) + "\n")
        for name, nik, born, sex, rel, marital in people:
            row = {
                **place,
                "NIK": nik,
                "NAMA_LGKP": name,
                "TGL_LHR": born.strftime("%d-%m-%Y"),
                "JENIS_KLMIN": SEX[sex],
                "STAT_HBKEL": RELATIONSHIP[rel],
                "STATUS_KAWIN": MARITAL[marital],
            }
            f.write(",".join(row.get(c, "") for c in COLUMNS) + "\n")
    job = asyncio.run(_import(db_url, path, today(), auto=False))
    assert job["status"] == "completed", job
    assert job["counts"]["nik_assigned"] == 1
    assert job["counts"]["persons_added"] == 0
    # The baby keeps her record and id; the operator's name for her is not overwritten
    # but offered as a conflict.
    detail = operator.get(f"/v1/persons/{baby['id']}").json()
    assert detail["nik"] == baby_nik
    assert detail["full_name"] == "Bayi Ny. Sintetis"
    assert [h["kind"] for h in detail["identifier_history"]] == ["provisional"]
    conflicts = operator.get("/v1/dukcapil/conflicts", params={"import_id": job["id"]})
    fields = {c["person_id"]: [f["field"] for f in c["fields"]] for c in conflicts.json()["items"]}
    assert fields[baby["id"]] == ["full_name"]
    count = fetch(
        db_url,
        "SELECT count(*) AS n FROM person WHERE household_id = $1::uuid",
        r.json()["id"],
    )
    assert count[0]["n"] == 3


def test_exits_apply_themselves_when_the_setting_says_so(db_url, tmp_path):
    extract, _ = build_extract(CITY, 60, regency_villages(CITY), 12, today())
    changed, expected = change_extract(extract, 0.05, 12)
    base_path, next_path = tmp_path / "base.csv", tmp_path / "next.csv"
    write_csv(extract, base_path)
    write_csv(changed, next_path)
    asyncio.run(_import(db_url, base_path, today() - timedelta(days=60), False, CITY))
    before = fetch(db_url, "SELECT coalesce(max(id), 0) AS n FROM outbox_event")[0]["n"]
    job = asyncio.run(_import(db_url, next_path, today(), True, CITY))
    assert job["status"] == "completed", job
    flags = fetch(
        db_url,
        "SELECT kind, status FROM dukcapil_exit_flag WHERE import_id = $1::uuid",
        job["id"],
    )
    assert Counter((f["kind"], f["status"]) for f in flags) == Counter(
        {
            ("died", "auto_applied"): len(expected.deaths),
            ("moved_out", "auto_applied"): len(expected.moves_out),
        }
    )
    for nik in expected.deaths:
        row = fetch(
            db_url,
            "SELECT death_date IS NOT NULL AS dead FROM person WHERE nik_hash = $1",
            lookup_hash("nik", nik, pii_codec().hash_key),
        )[0]
        assert row["dead"] is True
    for nik in expected.moves_out:
        row = fetch(
            db_url,
            "SELECT household_id FROM person WHERE nik_hash = $1",
            lookup_hash("nik", nik, pii_codec().hash_key),
        )[0]
        assert row["household_id"] is None
    events = fetch(
        db_url,
        "SELECT type, payload FROM outbox_event WHERE id > $1 AND region_code LIKE '61.72.%'",
        before,
    )
    died = [orjson.loads(e["payload"]) for e in events if e["type"] == "person.died"]
    assert len(died) == len(expected.deaths)
    assert all(p["alive"] is False and p["target_groups"] == [] for p in died)
    moved_out = [
        orjson.loads(e["payload"])
        for e in events
        if e["type"] == "person.moved" and orjson.loads(e["payload"])["household_id"] is None
    ]
    assert len(moved_out) == len(expected.moves_out)


def test_a_rejected_row_is_no_sign_of_leaving(db_url, tmp_path):
    """The next extract has one person's row unreadable (rejected) and another person
    missing: only the missing one is flagged as moved out (regency 61.71, Pontianak)."""
    regency = "61.71"
    extract, _ = build_extract(regency, 20, regency_villages(regency), 21, today())
    base_path, next_path = tmp_path / "base.csv", tmp_path / "next.csv"
    write_csv(extract, base_path)
    asyncio.run(_import(db_url, base_path, today() - timedelta(days=60), False, regency))
    following = extract.copy()
    columns = following.columns
    rejected_nik, missing_nik = columns["NIK"][4], columns["NIK"][9]
    columns["TGL_LHR"][4] = "31-02-1990"
    for values in columns.values():
        del values[9]
    write_csv(following, next_path)
    job = asyncio.run(_import(db_url, next_path, today(), False, regency))
    assert job["status"] == "completed", job
    assert job["rows_rejected"] == 1
    flagged = fetch(
        db_url,
        """SELECT p.nik_hash FROM dukcapil_exit_flag f JOIN person p ON p.id = f.person_id
           WHERE f.import_id = $1::uuid AND f.kind = 'moved_out'""",
        job["id"],
    )
    key = pii_codec().hash_key
    assert [f["nik_hash"] for f in flagged] == [lookup_hash("nik", missing_nik, key)]
    assert lookup_hash("nik", rejected_nik, key) not in {f["nik_hash"] for f in flagged}
