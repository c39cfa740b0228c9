"""The stateless calculator for other systems (POST /v1/growth/zscores, JSON or CSV,
at most 10,000 rows) and the ``kkb zscores IN.csv -o OUT.csv`` command."""

import csv
import io
import subprocess
import sys

import pytest

from common.reference_data import REPO_ROOT
from tests.growth import expect

# The output columns of csv_io, written out from its module docstring's contract.
OUTPUT_COLUMNS = [
    "zlen",
    "zwei",
    "zwfl",
    "zbmi",
    "zhc",
    "zac",
    "flen",
    "fwei",
    "fwfl",
    "fbmi",
    "fhc",
    "fac",
    "class_len",
    "class_wei",
    "class_wfl",
    "class_bmi",
    "error",
    "error_message",
    "warning",
]


@pytest.fixture(scope="module")
def caller(clients):
    return clients("health_worker", "61.04.16.2007")


def test_json_rows(caller):
    rows = [
        {"id": "a", "sex": 1, "age_days": 400, "weight_kg": 9.2, "height_cm": 74.0},
        {
            "id": "b",
            "sex": "P",
            "birth_date": "2024-01-10",
            "visit_date": "2024-06-10",
            "weight_kg": 6.4,
            "measure": "l",
            "height_cm": 63.5,
        },
        {"id": "c", "sex": 1, "age_days": 300, "weight_kg": 8500},
    ]
    r = caller.post("/v1/growth/zscores", json=rows)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rows_with_errors"] == 1
    a, b, c = body["rows"]
    assert a["id"] == "a" and list(a)[-len(OUTPUT_COLUMNS) :] == OUTPUT_COLUMNS
    assert a["zlen"] == pytest.approx(round(expect.zlen(1, 400, 74.0), 2), abs=1e-9)
    assert a["zwei"] == pytest.approx(round(expect.zwei(1, 400, 9.2), 2), abs=1e-9)
    assert a["class_len"] == expect.class_len(expect.zlen(1, 400, 74.0))
    assert a["error"] == ""
    assert b["zlen"] == pytest.approx(round(expect.zlen(2, 152, 63.5), 2), abs=1e-9)
    assert c["zwei"] is None and c["error"] == "weight_in_grams:weight_kg"
    assert c["error_message"]


def test_csv_in_csv_out(caller):
    text = "child;sex;age_days;weight_kg;height_cm\nx1;1;400;9,2;74\nx2;2;9999;9;70\n"
    r = caller.post("/v1/growth/zscores", content=text, headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    out = list(csv.reader(io.StringIO(r.text), delimiter=";"))
    assert out[0] == ["child", "sex", "age_days", "weight_kg", "height_cm", *OUTPUT_COLUMNS]
    first = dict(zip(out[0], out[1], strict=True))
    assert first["zlen"] == f"{expect.zlen(1, 400, 74.0):.2f}"
    second = dict(zip(out[0], out[2], strict=True))
    assert second["error"] == "age_60_months_or_more:age_days" and second["zlen"] == ""


def test_ten_thousand_rows_and_no_more(caller):
    row = {"sex": 1, "age_days": 400, "weight_kg": 9.5}
    ok = caller.post("/v1/growth/zscores", json=[row] * 10_000)
    assert ok.status_code == 200, ok.text[:300]
    assert len(ok.json()["rows"]) == 10_000
    too_many = caller.post("/v1/growth/zscores", json=[row] * 10_001)
    assert too_many.status_code == 413, too_many.text[:300]
    assert too_many.headers["content-type"].startswith("application/problem+json")
    assert too_many.json()["code"] == "too_many_rows"
    text = "sex,age_days,weight_kg\n" + "1,400,9.5\n" * 10_001
    csv_too_many = caller.post(
        "/v1/growth/zscores", content=text, headers={"Content-Type": "text/csv"}
    )
    assert csv_too_many.status_code == 413 and csv_too_many.json()["code"] == "too_many_rows"


@pytest.mark.parametrize(
    ("content", "media_type", "status", "code"),
    [
        (b'[{"age_days": 400, "weight_kg": 9}]', "application/json", 422, "missing_columns"),
        (b"sex,weight_kg\n1,9\n", "text/csv", 422, "missing_columns"),
        (b'{"sex": 1}', "application/json", 422, "rows_expected"),
        (b"[1, 2]", "application/json", 422, "rows_expected"),
        (b"[{", "application/json", 400, "malformed_json"),
        (b"sex=1", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    ],
)
def test_bad_requests(caller, content, media_type, status, code):
    r = caller.post("/v1/growth/zscores", content=content, headers={"Content-Type": media_type})
    assert r.status_code == status, r.text
    assert r.json()["code"] == code


def test_analyst_may_not(clients):
    analyst = clients("analyst", "61.04")
    r = analyst.post("/v1/growth/zscores", json=[{"sex": 1, "age_days": 1, "weight_kg": 3}])
    assert r.status_code == 403


def _kkb(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kkb", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_kkb_zscores_command(tmp_path):
    src = tmp_path / "in.csv"
    lines = ["id,sex,birth_date,visit_date,weight_kg,height_cm,measure"]
    lines += [f"r{i},1,2024-01-01,2025-02-04,9.2,74,l" for i in range(2500)]
    lines += ["bad,1,2024-01-01,2025-02-04,9200,74,l"]
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.csv"
    done = _kkb("zscores", str(src), "-o", str(out), "--lang", "en")
    assert done.returncode == 0, done.stderr
    assert "2,501 rows" in done.stderr and "1 with errors" in done.stderr
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 2501
    assert list(rows[0])[-len(OUTPUT_COLUMNS) :] == OUTPUT_COLUMNS
    # 2024-01-01 to 2025-02-04 is 400 days.
    assert rows[0]["zlen"] == f"{expect.zlen(1, 400, 74.0):.2f}"
    assert rows[-1]["error"] == "weight_in_grams:weight_kg"
    assert "grams" in rows[-1]["error_message"]

    missing = tmp_path / "missing.csv"
    missing.write_text("id,weight_kg\n1,9\n")
    failed = _kkb("zscores", str(missing), "-o", str(tmp_path / "x.csv"))
    assert failed.returncode == 2
    assert "missing_columns" in failed.stderr
