"""Bad input: each a clear 4xx problem+json, and nothing written."""

import uuid
from datetime import timedelta

import httpx
import pytest

from tests.growth.conftest import PAYA_KUMANG, Child, measurement_body, register_children
from tests.registry import factories as f


@pytest.fixture(scope="module")
def child(operator) -> Child:
    return register_children(
        operator, [("Rudi Sintetis", 1, f.today() - timedelta(days=450), True)]
    )[0]


def _nothing_recorded(client: httpx.Client, child: Child) -> None:
    r = client.get(f"/v1/growth/children/{child.id}/measurements")
    assert r.status_code == 200, r.text
    assert r.json()["measurements"] == []


def _problem(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == code, body
    assert body["detail"]
    return body


TODAY = f.today()


@pytest.mark.parametrize(
    ("values", "code", "field"),
    [
        ({"weight_kg": -1.0}, "weight_out_of_range", "weight_kg"),
        ({"weight_kg": 0.0}, "weight_out_of_range", "weight_kg"),
        ({"weight_kg": 250.0}, "weight_out_of_range", "weight_kg"),
        ({"weight_kg": 9400.0}, "weight_in_grams", "weight_kg"),
        ({"height_cm": 20.0}, "height_out_of_range", "height_cm"),
        ({"height_cm": 180.0}, "height_out_of_range", "height_cm"),
        ({"height_cm": 760.0}, "height_in_mm", "height_cm"),
        ({"muac_cm": 140.0}, "muac_in_mm", "muac_cm"),
        ({"head_cm": 2.0}, "head_out_of_range", "head_cm"),
        ({"visit_date": (TODAY + timedelta(days=2)).isoformat()}, "visit_in_future", "visit_date"),
        (
            {"visit_date": (TODAY - timedelta(days=460)).isoformat()},
            "visit_before_birth",
            "visit_date",
        ),
        ({"weight_kg": None, "height_cm": None, "measure": None}, "no_measurement", None),
    ],
)
def test_refused_visit(midwife, child, values, code, field):
    r = midwife.post("/v1/growth/measurements", json=measurement_body(child, **values))
    body = _problem(r, 422, code)
    if field:
        assert ["body", field] in [e["loc"] for e in body["errors"]]
    _nothing_recorded(midwife, child)


@pytest.mark.parametrize(
    "values",
    [
        {"measure": "x"},
        {"place": "pasar"},
        {"bb": 9.5},
        {"weight_kg": "berat"},
        {"visit_date": "31/02/2025"},
    ],
)
def test_malformed_body(midwife, child, values):
    _problem(
        midwife.post("/v1/growth/measurements", json=measurement_body(child, **values)),
        422,
        "validation_error",
    )
    _nothing_recorded(midwife, child)


def test_child_60_months_or_older(midwife, new_child):
    child = new_child(age_days=1830)
    body = _problem(
        midwife.post("/v1/growth/measurements", json=measurement_body(child, height_cm=110.0)),
        422,
        "age_60_months_or_more",
    )
    assert body["errors"][0]["loc"] == ["body", "visit_date"]
    _nothing_recorded(midwife, child)


def test_unknown_child_and_child_of_another_region(midwife, operator):
    unknown = midwife.post(
        "/v1/growth/measurements",
        json={"person_id": str(uuid.uuid4()), "visit_date": TODAY.isoformat(), "weight_kg": 9.0},
    )
    _problem(unknown, 404, "not_found")
    [elsewhere] = register_children(
        operator, [("Dewi Sintetis", 2, TODAY - timedelta(days=300), True)], PAYA_KUMANG
    )
    _problem(
        midwife.post("/v1/growth/measurements", json=measurement_body(elsewhere)), 404, "not_found"
    )
    # The district officer (Delta Pawan) sees the child: nothing was recorded.
    _nothing_recorded(operator, elsewhere)


def test_deceased_child(midwife, operator, new_child):
    child = new_child(age_days=500)
    person = operator.get(f"/v1/persons/{child.id}")
    died = operator.post(
        f"/v1/persons/{child.id}/death",
        json={"death_date": (TODAY - timedelta(days=5)).isoformat()},
        headers={"If-Match": person.headers["etag"]},
    )
    assert died.status_code == 200, died.text
    _problem(
        midwife.post("/v1/growth/measurements", json=measurement_body(child)),
        409,
        "person_deceased",
    )
    _nothing_recorded(midwife, child)
    # A visit before the death may still be entered from the paper register.
    late = measurement_body(child, visit_date=(TODAY - timedelta(days=12)).isoformat())
    assert midwife.post("/v1/growth/measurements", json=late).status_code == 201


def test_roles_without_the_right(clients, child):
    operator = clients("village_operator", "61.04.16.2007")
    _problem(
        operator.post("/v1/growth/measurements", json=measurement_body(child)), 403, "forbidden"
    )
    analyst = clients("analyst", "61.04")
    _problem(analyst.get(f"/v1/growth/children/{child.id}/measurements"), 403, "forbidden")


def _upload(client: httpx.Client, text: str | bytes, media_type: str = "text/csv"):
    content = text.encode() if isinstance(text, str) else text
    return client.post("/v1/growth/uploads", content=content, headers={"Content-Type": media_type})


def test_upload_missing_columns_are_named(midwife):
    body = _problem(_upload(midwife, "nama,bb\nBayu,9.5\n"), 422, "missing_columns")
    assert body["columns"] == ["visit_date", "nik|person_id"]
    assert "visit_date" in body["detail"]
    body = _problem(_upload(midwife, "nik,tgl_ukur,nama\n1,2024-01-01,x\n"), 422, "missing_columns")
    assert body["columns"] == ["weight_kg|height_cm|head_cm|muac_cm"]


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"", 422, "empty_file"),
        (b"nik,tgl_ukur,bb\n", 422, "no_rows"),
        (b"nik,tgl_ukur,bb\n61041\x00,2024-01-01,9\n", 422, "malformed_csv"),
        (b'nik,tgl_ukur,bb\n"6104,2024-01-01,9\n', 422, "malformed_csv"),
        (b"PK\x03\x04\x14\x00\x06\x00", 422, "malformed_csv"),
        (b"nik,bb,bb\n1,2,3\n", 422, "duplicate_column"),
    ],
)
def test_upload_unreadable_file(midwife, content, status, code):
    _problem(_upload(midwife, content), status, code)


def test_upload_wrong_media_type_and_missing_file(midwife):
    _problem(_upload(midwife, "{}", "application/json"), 415, "unsupported_media_type")
    r = midwife.post("/v1/growth/uploads", files={"other": ("a.csv", b"x", "text/csv")})
    _problem(r, 422, "file_missing")


def test_oversized_uploads(midwife):
    rows = "".join(f"610416010120{i % 10000:04d},2024-01-01,9\n" for i in range(10_001))
    _problem(_upload(midwife, "nik,tgl_ukur,bb\n" + rows), 413, "too_many_rows")
    big = "nik,tgl_ukur,bb,catatan\n" + "6104160101200001,2024-01-01,9," + "x" * (9 << 20)
    _problem(_upload(midwife, big), 413, "upload_too_large")


def test_upload_with_no_valid_row_is_refused_whole(midwife, child):
    text = (
        "person_id,visit_date,weight_kg\n"
        f"{child.id},{TODAY.isoformat()},9400\n"
        f"{child.id},{(TODAY + timedelta(days=1)).isoformat()},9.4\n"
    )
    body = _problem(_upload(midwife, text), 422, "upload_rejected")
    assert body["rows"] == 2
    assert [(e["row"], e["code"]) for e in body["row_errors"]] == [
        (2, "weight_in_grams"),
        (3, "visit_in_future"),
    ]
    _nothing_recorded(midwife, child)
