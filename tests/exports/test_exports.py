"""Bulk export jobs through the gateway: lifecycle, masking, NDJSON and CSV content,
links that expire, region scope, permissions, retention."""

import asyncio
import base64
import csv
import hashlib
import hmac
import io
import json
import time
import uuid

import httpx
import pytest

from common.settings import CommonSettings
from kkb.bootstrap import as_service
from tests.exports.conftest import (
    ALL_DATASETS,
    PURPOSE,
    ROBAN,
    SINGKAWANG,
    initials,
    masked_number,
    wait_done,
)

PROBLEM = "application/problem+json"


def _download(url: str) -> httpx.Response:
    return httpx.get(url, timeout=60)  # no token: the signed link is the credential


def _ndjson(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line]


def _files(job: dict) -> dict[str, dict]:
    return {f["dataset"]: f for f in job["files"]}


def _sign(export_id: str, name: str, expires: int) -> str:
    """The link signature as docs/FHIR.md describes it, computed here independently."""
    key = hmac.new(CommonSettings().internal_secret.encode(), b"kkb-export-link-v1", "sha256")
    message = f"{export_id}\n{name}\n{expires}".encode()
    digest = hmac.new(key.digest(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def exporter(systems):
    """A provincial data system allowed bulk exports of Singkawang, no personal data."""
    return systems(["export:bulk"], SINGKAWANG)


@pytest.fixture(scope="module")
def masked_job(exporter, seeded) -> dict:
    resp = exporter.post(
        "/v1/exports", json={"region": SINGKAWANG, "datasets": ALL_DATASETS, "format": "ndjson"}
    )
    assert resp.status_code == 202, resp.text
    created = resp.json()
    assert resp.headers["location"] == f"/v1/exports/{created['id']}"
    assert created["status"] in ("queued", "running") and created["masked"] is True
    assert created["files"] == []
    job = wait_done(exporter, created["id"])
    assert job["status"] == "done", job["error"]
    return job


def test_lifecycle_and_files(masked_job):
    job = masked_job
    assert job["percent"] == 100.0
    assert [p["dataset"] for p in job["progress"]] == ALL_DATASETS
    assert all(p["done"] for p in job["progress"])
    assert job["started_at"] and job["finished_at"] and job["expires_at"]
    for dataset, meta in _files(job).items():
        resp = _download(meta["url"])
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"].startswith("application/x-ndjson")
        assert hashlib.sha256(resp.content).hexdigest() == meta["sha256"]
        assert len(resp.content) == meta["bytes"]
        assert len(_ndjson(resp.text)) == meta["rows"]
        assert meta["name"] == f"{dataset}.ndjson"
        progress = next(p for p in job["progress"] if p["dataset"] == dataset)
        assert progress["rows"] == meta["rows"]


def test_masked_ndjson_content(masked_job, seeded):
    files = _files(masked_job)
    persons = {r["id"]: r for r in _ndjson(_download(files["persons"]["url"]).text)}
    assert set(seeded.persons) <= set(persons)
    for pid, sent in seeded.persons.items():
        row = persons[pid]
        assert row["nik"] == masked_number(sent.nik)
        assert row["full_name"] == initials(sent.name)
        assert row["birth_date"] == f"{sent.birth.year:04d}-{sent.birth.month:02d}"
        assert row["village_code"] == ROBAN
    everything = json.dumps(list(persons.values()))
    assert not any(p.nik in everything or p.name in everything for p in seeded.persons.values())

    households = {r["id"]: r for r in _ndjson(_download(files["households"]["url"]).text)}
    for hid, body in seeded.households.items():
        row = households[hid]
        assert row["kk_number"] == masked_number(body["kk_number"])
        assert row["address"] == "•••"
        assert (row["water_source"], row["welfare_decile"]) == ("piped", 4)

    measurements = {r["id"]: r for r in _ndjson(_download(files["measurements"]["url"]).text)}
    for mid in seeded.measurements:
        row = measurements[mid]
        assert row["age_days"] is None and row["age_months"] == 14  # 430 / 30.4375
        assert len(row["birth_date"]) == 7 and row["zlen"] is not None
    deliveries = {r["id"] for r in _ndjson(_download(files["deliveries"]["url"]).text)}
    assert set(seeded.deliveries) <= deliveries
    referrals = {r["id"]: r for r in _ndjson(_download(files["referrals"]["url"]).text)}
    assert {referrals[r]["state"] for r in seeded.referrals} == {"created"}
    for rows in (persons, households, measurements, referrals):
        assert all(r["village_code"].startswith(SINGKAWANG + ".") for r in rows.values())


def test_unmasked_csv_for_an_admin_with_a_purpose(clients, seeded):
    admin = clients("admin", SINGKAWANG, **PURPOSE)
    resp = admin.post(
        "/v1/exports", json={"region": ROBAN, "datasets": ["persons", "referrals"], "format": "csv"}
    )
    assert resp.status_code == 202, resp.text
    assert resp.json()["masked"] is False
    job = wait_done(admin, resp.json()["id"])
    assert job["status"] == "done", job["error"]
    files = _files(job)
    download = _download(files["persons"]["url"])
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert len(rows) == files["persons"]["rows"]
    assert list(rows[0])[:3] == ["id", "household_id", "nik"]
    by_id = {r["id"]: r for r in rows}
    for pid, sent in seeded.persons.items():
        row = by_id[pid]
        assert (row["nik"], row["full_name"]) == (sent.nik, sent.name)
        assert row["birth_date"] == sent.birth.isoformat()
        assert row["has_birth_certificate"] in ("true", "false")
    referrals = list(csv.DictReader(io.StringIO(_download(files["referrals"]["url"]).text)))
    assert {r["id"] for r in referrals} >= set(seeded.referrals)
    assert all(r["note"] == "" or r["note"] for r in referrals)  # None → empty cell

    auditor = clients("auditor", "")
    me = admin.get("/v1/me").json()["sub"]
    entries = auditor.get("/v1/audit/entries", params={"actor": me}).json()["items"]
    by_type = {e["record_type"]: e for e in entries if e["operation"] == "export.bulk"}
    assert by_type["export"]["record_ids"] == [job["id"]]
    assert (
        "nik" in by_type["export"]["fields"] and by_type["export"]["purpose"] == "service_delivery"
    )
    assert by_type["export_file"]["record_ids"] == [job["id"]]  # the download, in its name


def test_links_refuse_tampering_and_expiry(masked_job, exporter, systems):
    meta = _files(masked_job)["persons"]
    url = httpx.URL(meta["url"])
    tampered = url.copy_merge_params({"expires": str(int(url.params["expires"]) + 3600)})
    resp = _download(str(tampered))
    assert resp.status_code == 403 and resp.json()["code"] == "link_invalid"
    assert resp.headers["content-type"].startswith(PROBLEM)

    past = int(time.time()) - 5
    expired = url.copy_merge_params(
        {"expires": str(past), "sig": _sign(masked_job["id"], "persons.ndjson", past)}
    )
    resp = _download(str(expired))
    assert resp.status_code == 410 and resp.json()["code"] == "link_expired"

    future = int(time.time()) + 60
    other_file = str(url).replace("persons.ndjson", "secrets.ndjson")
    forged = httpx.URL(other_file).copy_merge_params(
        {"expires": str(future), "sig": _sign(masked_job["id"], "secrets.ndjson", future)}
    )
    assert _download(str(forged)).status_code == 410

    # Someone else's job does not exist for you.
    stranger = systems(["export:bulk"], SINGKAWANG)
    assert stranger.get(f"/v1/exports/{masked_job['id']}").status_code == 404
    assert exporter.get(f"/v1/exports/{uuid.uuid4()}").status_code == 404


def test_outside_the_callers_region_is_refused(systems, db_url):
    ketapang = systems(["export:bulk"], "61.04")
    resp = ketapang.post("/v1/exports", json={"region": SINGKAWANG, "datasets": ["persons"]})
    assert resp.status_code == 403, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    assert resp.json()["code"] == "region_out_of_scope"
    national = ketapang.post("/v1/exports", json={"region": "", "datasets": ["persons"]})
    assert national.status_code == 403

    me = ketapang.get("/v1/me").json()["sub"]

    async def jobs_of(sub: str) -> int:
        async with as_service(db_url, "gateway") as conn:
            return await conn.fetchval(
                "SELECT count(*) FROM export_job WHERE requested_by = $1", sub
            )

    assert asyncio.run(jobs_of(me)) == 0  # nothing was queued


def test_who_may_export(clients, systems):
    body = {"region": ROBAN, "datasets": ["persons"]}
    assert clients("health_worker", ROBAN).post("/v1/exports", json=body).status_code == 403
    assert systems(["registry:read"], SINGKAWANG).post("/v1/exports", json=body).status_code == 403
    bad = systems(["export:bulk"], SINGKAWANG).post(
        "/v1/exports", json={"region": ROBAN, "datasets": ["persons", "persons"]}
    )
    assert bad.status_code == 422
    unknown = systems(["export:bulk"], SINGKAWANG).post(
        "/v1/exports", json={"region": ROBAN, "datasets": ["secrets"]}
    )
    assert unknown.status_code == 422


def test_files_are_deleted_after_retention(exporter, seeded, db_url):
    resp = exporter.post("/v1/exports", json={"region": ROBAN, "datasets": ["referrals"]})
    job = wait_done(exporter, resp.json()["id"])
    url = _files(job)["referrals"]["url"]
    assert _download(url).status_code == 200

    async def age_out() -> None:
        async with as_service(db_url, "gateway") as conn:
            await conn.execute(
                "UPDATE export_job SET expires_at = now() - interval '1 second' WHERE id = $1",
                uuid.UUID(job["id"]),
            )

    asyncio.run(age_out())
    deadline = time.monotonic() + 30
    while exporter.get(f"/v1/exports/{job['id']}").json()["status"] != "expired":
        assert time.monotonic() < deadline, "the worker did not expire the job"
        time.sleep(0.5)
    gone = _download(url)
    assert gone.status_code == 410 and gone.json()["code"] == "export_expired"
    assert exporter.get(f"/v1/exports/{job['id']}").json()["files"] == []
