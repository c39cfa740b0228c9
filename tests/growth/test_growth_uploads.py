"""Posyandu uploads row by row: who the row is (NIK or registry id, cross-checked
against name, sex and birth date), what is wrong with it, and that a rejected row leaves
nothing behind while the valid rows are stored."""

from datetime import date, timedelta

import pytest

from tests.growth.conftest import PAYA_KUMANG, Child, register_children
from tests.registry import factories as f

TODAY = f.today()


@pytest.fixture(scope="module")
def kids(operator) -> dict[str, Child]:
    t = TODAY
    names = ["Adi", "Bela", "Cici", "Dodi", "Eka", "Fajar", "Gita"]
    made = register_children(
        operator,
        [
            (f"{n} Sintetis", 1 if i % 2 == 0 else 2, t - timedelta(days=200 + 90 * i), True)
            for i, n in enumerate(names)
        ],
    )
    [old] = register_children(operator, [("Tua Sintetis", 1, t - timedelta(days=1900), True)])
    [away] = register_children(
        operator, [("Jauh Sintetis", 2, t - timedelta(days=500), True)], PAYA_KUMANG
    )
    return {c.name.split()[0]: c for c in [*made, old, away]}


def _upload(client, text: str):
    return client.post(
        "/v1/growth/uploads", content=text.encode(), headers={"Content-Type": "text/csv"}
    )


def _count(client, child: Child) -> int:
    r = client.get(f"/v1/growth/children/{child.id}/measurements")
    return len(r.json()["measurements"]) if r.status_code == 200 else -1


def test_valid_rows_stored_each_bad_row_reported(midwife, operator, kids):
    k = kids
    d = TODAY.isoformat()

    def row(
        child: Child,
        *,
        nik=None,
        pid="",
        name=None,
        sex=None,
        birth=None,
        visit=d,
        weight="9.1",
        height="72.0",
    ) -> str:
        return ",".join(
            [
                child.nik if nik is None else nik,
                pid,
                child.name if name is None else name,
                ("L" if child.sex == 1 else "P") if sex is None else sex,
                child.birth_date.isoformat() if birth is None else birth,
                visit,
                weight,
                height,
            ]
        )

    lines = [
        "nik,person_id,nama,jk,tgl_lahir,tgl_ukur,bb,tb",
        row(k["Adi"]),  # 2 valid, by NIK
        row(k["Bela"], nik="", pid=k["Bela"].id),  # 3 valid, by registry id
        row(k["Cici"], sex="P" if k["Cici"].sex == 1 else "L"),  # 4 sex differs
        row(k["Dodi"], birth="2020-01-01"),  # 5 birth date differs
        row(k["Eka"], name="Zainal"),  # 6 another child's name
        row(k["Fajar"], nik="6104160101990001"),  # 7 unknown NIK
        row(k["Fajar"], pid=k["Gita"].id),  # 8 NIK and id name different children
        row(k["Jauh"]),  # 9 a child of another village: not found
        row(k["Tua"], height="110"),  # 10 older than 59 months
        row(k["Gita"], visit=(TODAY + timedelta(days=3)).isoformat()),  # 11 future
        row(k["Gita"], visit="2019-05-05"),  # 12 before birth
        row(k["Adi"]),  # 13 same child, same date as row 2
        row(k["Fajar"], weight="-3"),  # 14 negative weight
        row(k["Fajar"], nik="61041601019"),  # 15 malformed NIK
        row(k["Fajar"], weight="sembilan", visit="31/02/2025"),  # 16 two bad cells
        row(k["Gita"], weight="", height=""),  # 17 nothing measured
    ]
    r = _upload(midwife, "\n".join(lines) + "\n")
    assert r.status_code == 201, r.text
    report = r.json()
    assert (report["rows"], report["stored"], report["rejected"]) == (16, 2, 14)
    got = sorted((e["row"], e["code"], e["column"]) for e in report["errors"])
    assert got == [
        (4, "sex_mismatch", "jk"),
        (5, "birth_date_mismatch", "tgl_lahir"),
        (6, "name_mismatch", "nama"),
        (7, "person_not_found", "nik"),
        (8, "identifier_mismatch", "nik"),
        (9, "person_not_found", "nik"),
        (10, "age_60_months_or_more", "tgl_ukur"),
        (11, "visit_in_future", "tgl_ukur"),
        (12, "visit_before_birth", "tgl_ukur"),
        (13, "duplicate_row", "tgl_ukur"),
        (14, "weight_out_of_range", "bb"),
        (15, "nik_invalid", "nik"),
        (16, "date_invalid", "tgl_ukur"),
        (16, "not_a_number", "bb"),
        (17, "no_measurement", None),
    ]
    assert {res["row"] for res in report["results"]} == {2, 3}
    # Rejected rows left nothing: only Adi and Bela have a measurement.
    counts = {name: _count(midwife, child) for name, child in k.items() if name != "Jauh"}
    assert counts == {n: (1 if n in ("Adi", "Bela") else 0) for n in counts}
    assert _count(operator, k["Jauh"]) == 0

    # Sending the same file again: its valid rows are already recorded, nothing is doubled.
    again = _upload(midwife, "\n".join(lines[:3]) + "\n")
    assert again.status_code == 422, again.text
    assert {e["code"] for e in again.json()["row_errors"]} == {"already_recorded"}
    assert _count(midwife, k["Adi"]) == 1


def test_header_spellings_decimal_commas_and_positions(midwife, operator):
    [child] = register_children(
        operator, [("Hana Sintetis", 2, TODAY - timedelta(days=800), False)]
    )
    text = (
        "ID Registrasi;Tanggal Pengukuran;Berat Badan;Tinggi Badan;Cara Ukur;LiLA;"
        "Lingkar Kepala;Edema;Tempat;Nama Posyandu;ZS BB/U\n"
        f"{child.id};{TODAY.strftime('%d/%m/%Y')};10,9;84,2;Berdiri;14,8;47,5;tidak;"
        "puskesmas;Melati;-1,2\n"
    )
    r = _upload(midwife, text)
    assert r.status_code == 201, r.text
    assert r.json()["ignored_columns"] == ["ZS BB/U"]
    [m] = midwife.get(f"/v1/growth/children/{child.id}/measurements").json()["measurements"]
    assert (m["weight_kg"], m["height_cm"], m["muac_cm"], m["head_cm"]) == (10.9, 84.2, 14.8, 47.5)
    assert m["measure"] == "h" and m["measure_used"] == "h" and m["height_used_cm"] == 84.2
    assert m["place"] == "puskesmas" and m["posyandu_name"] == "Melati"
    assert m["zhc"] is not None and m["zac"] is not None


def test_multipart_and_upload_report(midwife, operator):
    [child] = register_children(
        operator, [("Indah Sintetis", 2, TODAY - timedelta(days=150), True)]
    )
    text = f"NIK,Tgl Ukur,BB,PB\n{child.nik},{TODAY.isoformat()},6.1,61.5\n"
    r = midwife.post(
        "/v1/growth/uploads", files={"file": ("sesi.csv", text.encode("utf-8-sig"), "text/csv")}
    )
    assert r.status_code == 201, r.text
    report = r.json()
    summary = midwife.get(f"/v1/growth/uploads/{report['upload_id']}")
    assert summary.status_code == 200
    body = summary.json()
    assert (body["rows"], body["stored"], body["rejected"], body["file_name"]) == (
        1,
        1,
        0,
        "sesi.csv",
    )


def test_upload_decides_the_counted_visit_of_the_month(midwife, operator):
    """An upload's visit later in the month takes over the counted mark; an earlier one
    does not; two visits of one child in one file: the later counts."""
    [a, b] = register_children(
        operator,
        [
            ("Joko Sintetis", 1, TODAY - timedelta(days=420), True),
            ("Kiki Sintetis", 2, TODAY - timedelta(days=420), True),
        ],
    )

    def last_month(day: int) -> date:
        return (TODAY.replace(day=1) - timedelta(days=1)).replace(day=day)

    for child in (a, b):
        r = midwife.post(
            "/v1/growth/measurements",
            json={
                "person_id": child.id,
                "visit_date": last_month(10).isoformat(),
                "weight_kg": 9.0,
            },
        )
        assert r.status_code == 201, r.text
    text = "nik,tgl_ukur,bb\n" + "".join(
        f"{child.nik},{last_month(day).isoformat()},9.{day % 10}\n"
        for child, day in ((a, 20), (b, 3), (b, 6))
    )
    assert _upload(midwife, text).status_code == 201

    def counted(child: Child) -> dict[str, bool]:
        history = midwife.get(f"/v1/growth/children/{child.id}/measurements").json()
        return {m["visit_date"][-2:]: m["counted"] for m in history["measurements"]}

    assert counted(a) == {"10": False, "20": True}
    assert counted(b) == {"03": False, "06": False, "10": True}
