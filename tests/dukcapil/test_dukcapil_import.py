"""Scenario 7 end to end: a regency extract into an empty registry, the same file again,
then a month later an extract with 5% changed (births, newcomers, deaths, moves,
corrections) while operators edited some records. Expectations come from the
extract generator's own list of what it changed, never from the importer.

Regency 61.07 (Bengkayang): no other test writes there, so "empty" holds.
"""

import asyncio
import csv
import io
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text

from bench.gen_dukcapil_extract import (
    EDUCATION,
    OCCUPATION,
    Expected,
    Extract,
    build_extract,
    change_extract,
    regency_villages,
    write_csv,
)
from common.clock import local_date, today
from common.db import make_engine, make_sessionmaker
from common.pii import lookup_hash
from kkb.bootstrap import as_service
from kkb.database import service_url
from services.registry.events import repository as events_repo
from services.registry.households import repository as households_repo
from services.registry.persons.crypto import pii_codec
from services.registry.persons.service import groups_of
from services.registry.risk.rules import assess_krs
from services.registry.risk.service import assessment_row, conditions_of, household_members
from tests.auth_helpers import user_client
from tests.dukcapil.conftest import fetch

REGENCY = "61.07"
HOUSEHOLDS = 250
SEED = 7
IN_REGENCY = "village_code LIKE '61.07.%'"
# Dukcapil column -> registry field, for the corrections the generator makes.
FIELD_OF = {
    "NAMA_LGKP": "full_name",
    "JENIS_PKRJN": "occupation",
    "PDDK_AKH": "education",
    "TMPT_LHR": "birth_place",
}
CHANGE_KINDS = (
    "households_added",
    "households_updated",
    "household_conflicts",
    "persons_added",
    "births",
    "nik_assigned",
    "persons_updated",
    "persons_moved",
    "person_conflicts",
    "deaths_reported",
    "moved_out_reported",
    "dead_unregistered",
    "dead_in_registry",
    "rows_rejected",
)


def upload(
    client: httpx.Client, path: Path, extract_date: Any, force: bool = False
) -> httpx.Response:
    with path.open("rb") as f:
        return client.post(
            "/v1/dukcapil/imports",
            files={"file": (path.name, f, "text/csv")},
            data={
                "regency_code": REGENCY,
                "extract_date": extract_date.isoformat(),
                "force": "true" if force else "false",
            },
        )


def wait_done(client: httpx.Client, import_id: str, timeout_s: float = 600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    seen_progress = []
    while True:
        r = client.get(f"/v1/dukcapil/imports/{import_id}")
        assert r.status_code == 200, r.text
        job = r.json()
        seen_progress.append(job["progress"])
        if job["status"] in ("completed", "failed"):
            assert seen_progress == sorted(seen_progress)
            return job
        assert time.monotonic() < deadline, f"import still {job['status']}"
        time.sleep(0.3)


def events_by_type(db_url: str, after_id: int) -> Counter:
    rows = fetch(
        db_url,
        f"SELECT type, count(*) AS n FROM outbox_event WHERE id > $1 AND region_code"
        f" LIKE '{REGENCY}.%' GROUP BY type",
        after_id,
    )
    return Counter({r["type"]: r["n"] for r in rows})


def last_event_id(db_url: str) -> int:
    return fetch(db_url, "SELECT coalesce(max(id), 0) AS n FROM outbox_event")[0]["n"]


def person_id_of(db_url: str, nik: str) -> str:
    digest = lookup_hash("nik", nik, pii_codec().hash_key)
    rows = fetch(db_url, "SELECT id FROM person WHERE nik_hash = $1", digest)
    assert rows, "no person for a NIK of the extract"
    return str(rows[0]["id"])


@pytest.fixture(scope="module")
def extracts(tmp_path_factory) -> tuple[Extract, Path, Extract, Path, Expected]:
    folder = tmp_path_factory.mktemp("extracts")
    base, _ = build_extract(REGENCY, HOUSEHOLDS, regency_villages(REGENCY), SEED, today())
    changed, expected = change_extract(base, 0.05, SEED)
    base_path, changed_path = folder / "ketapang_base.csv", folder / "ketapang_next.csv"
    write_csv(base, base_path)
    write_csv(changed, changed_path, delimiter=";")  # extracts come with either
    return base, base_path, changed, changed_path, expected


@pytest.fixture(scope="module")
def admin(client_for) -> httpx.Client:
    return client_for("admin", REGENCY)


@pytest.fixture(scope="module")
def first_import(stack, db_url, extracts) -> dict[str, Any]:
    """The base extract through the gateway, into a regency with nobody registered."""
    base, base_path, *_ = extracts
    assert fetch(db_url, f"SELECT count(*) AS n FROM household WHERE {IN_REGENCY}")[0]["n"] == 0
    before = last_event_id(db_url)
    with user_client(stack, db_url, "admin", REGENCY) as gateway:
        r = upload(gateway, base_path, today() - timedelta(days=60))
        assert r.status_code == 202, r.text
        job = wait_done(gateway, r.json()["id"])
    return {"job": job, "events_before": before, "events_after": last_event_id(db_url)}


def test_first_import_fills_an_empty_registry(db_url, extracts, first_import):
    base, *_ = extracts
    job = first_import["job"]
    households = len(set(base.columns["NO_KK"]))
    assert job["status"] == "completed", job
    assert job["progress"] == 1.0
    assert job["rows_total"] == len(base)
    counts = job["counts"]
    assert counts["households_added"] == households
    assert counts["persons_added"] == len(base)
    assert all(
        counts[k] == 0 for k in CHANGE_KINDS if k not in ("households_added", "persons_added")
    )
    in_db = fetch(
        db_url,
        f"""SELECT (SELECT count(*) FROM person WHERE {IN_REGENCY}) AS persons,
                   (SELECT count(*) FROM household WHERE {IN_REGENCY} AND active) AS households,
                   (SELECT count(*) FROM household_membership m JOIN household h
                    ON h.id = m.household_id WHERE h.{IN_REGENCY} AND m.end_reason IS NULL)
                       AS members,
                   (SELECT count(*) FROM krs_assessment WHERE {IN_REGENCY} AND is_current)
                       AS assessed""",
    )[0]
    assert in_db == {
        "persons": len(base),
        "households": households,
        "members": len(base),
        "assessed": households,
    }
    events = events_by_type(db_url, first_import["events_before"])
    assert events == Counter(
        {
            "household.registered": households,
            "person.registered": len(base),
            "krs.assessed": households,
        }
    )
    nik = base.columns["NIK"][0]
    leaked = fetch(
        db_url,
        "SELECT count(*) AS n FROM outbox_event WHERE id > $1 AND payload::text LIKE '%' || $2"
        " || '%'",
        first_import["events_before"],
        nik,
    )
    assert leaked[0]["n"] == 0


def test_imported_people_count_as_verified(client_for, db_url, extracts, first_import):
    base, *_ = extracts
    person = person_id_of(db_url, base.columns["NIK"][3])
    village = fetch(db_url, "SELECT village_code FROM person WHERE id = $1::uuid", person)[0]
    client = client_for("village_operator", village["village_code"])
    body = client.get(f"/v1/persons/{person}/verification").json()
    assert body["status"] == "verified"
    assert body["source"] == "extract"


async def _rules_agree(db_url: str) -> list:
    """Every imported household reassessed by the per-household code: the stored result."""
    engine = make_engine(service_url(db_url, "registry"), "registry")
    mismatches = []
    async with make_sessionmaker(engine)() as session:
        stored = (
            await session.execute(
                text(
                    "SELECT household_id, village_code, is_target_family, is_krs, criteria,"
                    " criteria_met, reason, assessed_on FROM krs_assessment"
                    f" WHERE is_current AND {IN_REGENCY}"
                )
            )
        ).mappings()
        for h in [dict(r) for r in stored]:
            latest = await households_repo.conditions(session, h["household_id"], latest_only=True)
            members = await household_members(session, h["household_id"])
            want = assessment_row(
                h["household_id"],
                h["village_code"],
                assess_krs(conditions_of(latest[0] if latest else None), members, h["assessed_on"]),
            )
            keys = ("is_target_family", "is_krs", "criteria", "reason")
            got = {k: h[k] for k in keys} | {"met": sorted(h["criteria_met"])}
            expected = {k: want[k] for k in keys} | {"met": sorted(want["criteria_met"])}
            if got != expected:
                mismatches.append((h["household_id"], got, expected))
    await engine.dispose()
    return mismatches


def test_krs_of_imported_households_follows_the_rules(db_url, first_import):
    assert asyncio.run(_rules_agree(db_url)) == []


def test_the_same_file_again_changes_nothing(admin, db_url, extracts, first_import):
    base, base_path, *_ = extracts
    again = upload(admin, base_path, today() - timedelta(days=60))
    assert again.status_code == 200, again.text
    assert again.json()["already_imported"] is True
    assert again.json()["id"] == first_import["job"]["id"]

    before = last_event_id(db_url)
    forced = upload(admin, base_path, today() - timedelta(days=60), force=True)
    assert forced.status_code == 202, forced.text
    job = wait_done(admin, forced.json()["id"])
    assert job["status"] == "completed"
    assert job["counts"]["persons_unchanged"] == len(base)
    assert all(job["counts"][k] == 0 for k in CHANGE_KINDS)
    assert events_by_type(db_url, before) == Counter()


@pytest.fixture(scope="module")
def operator_edits(client_for, db_url, extracts, first_import) -> dict[str, str]:
    """Operators edit three people the next extract corrects, and one it leaves alone:
    NIK -> person id."""
    base, _, _, _, expected = extracts
    corrected = sorted(expected.changed)[:3]
    untouched = next(
        n
        for n in base.columns["NIK"]
        if n not in expected.changed
        and n not in expected.deaths
        and n not in expected.moves_within
        and n not in expected.moves_out
    )
    edited = {}
    for nik in [*corrected, untouched]:
        pid = person_id_of(db_url, nik)
        village = fetch(db_url, "SELECT village_code FROM person WHERE id = $1::uuid", pid)[0]
        client = client_for("village_operator", village["village_code"])
        current = client.get(f"/v1/persons/{pid}")
        patched = client.patch(
            f"/v1/persons/{pid}",
            json={"has_birth_certificate": True},
            headers={"If-Match": current.headers["etag"]},
        )
        assert patched.status_code == 200, patched.text
        edited[nik] = pid
    # The API commits just after answering (FastAPI runs the session's exit after the
    # response): wait until the edits are visible before the next import reads them.
    deadline = time.monotonic() + 30
    ids = list(edited.values())
    while fetch(
        db_url,
        "SELECT count(*) AS n FROM person WHERE id = ANY($1::uuid[]) AND has_birth_certificate",
        ids,
    )[0]["n"] < len(ids):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return edited


@pytest.fixture(scope="module")
def second_import(admin, db_url, extracts, first_import, operator_edits) -> dict[str, Any]:
    *_, changed_path, _ = extracts
    before = last_event_id(db_url)
    r = upload(admin, changed_path, today())
    assert r.status_code == 202, r.text
    job = wait_done(admin, r.json()["id"])
    return {"job": job, "events_before": before}


def test_changed_extract_counts(extracts, second_import):
    _, _, changed, _, expected = extracts
    job = second_import["job"]
    assert job["status"] == "completed", job
    conflicts = 3
    counts = job["counts"]
    assert counts["births"] == len(expected.births)
    assert counts["persons_added"] == len(expected.births) + len(expected.newcomers)
    assert counts["households_added"] == len(expected.new_households)
    assert counts["persons_moved"] == len(expected.moves_within)
    assert counts["persons_updated"] == len(expected.changed) - conflicts
    assert counts["person_conflicts"] == conflicts
    assert counts["deaths_reported"] == len(expected.deaths)
    assert counts["moved_out_reported"] == len(expected.moves_out)
    assert counts["households_updated"] == counts["household_conflicts"] == 0
    assert counts["rows_rejected"] == counts["nik_assigned"] == 0
    untouched = (
        len(changed)
        - len(expected.births)
        - len(expected.newcomers)
        - len(expected.moves_within)
        - len(expected.changed)
        - len(expected.deaths)
    )
    assert counts["persons_unchanged"] == untouched


def test_changed_extract_events(db_url, extracts, second_import):
    *_, expected = extracts
    events = events_by_type(db_url, second_import["events_before"])
    assert events["household.registered"] == len(expected.new_households)
    assert events["person.registered"] == len(expected.births) + len(expected.newcomers)
    assert events["person.moved"] == len(expected.moves_within)
    assert events["person.updated"] == len(expected.changed) - 3
    assert events["person.died"] == 0  # deaths wait for an operator
    assert events["krs.assessed"] > 0
    moved = fetch(
        db_url,
        "SELECT payload FROM outbox_event WHERE id > $1 AND type = 'person.moved'",
        second_import["events_before"],
    )
    for row in moved:
        payload = orjson.loads(row["payload"])
        assert payload["from_household_id"] != payload["household_id"]
        assert payload["alive"] is True


async def _groups_disagree(db_url: str, after_id: int) -> tuple[int, list]:
    """Each person's newest person.* event since ``after_id`` against the target-group
    rules run on the person as the registry holds it, as of the event's day."""
    async with as_service(db_url, "registry") as conn:
        rows = await conn.fetch(
            """
            SELECT DISTINCT ON (e.aggregate_id) e.payload, e.occurred_at, p.*
            FROM outbox_event e JOIN person p ON p.id = e.aggregate_id
            WHERE e.id > $1 AND e.type LIKE 'person.%'
            ORDER BY e.aggregate_id, e.id DESC
            """,
            after_id,
        )
        life = await conn.fetch(
            "SELECT * FROM life_event WHERE person_id = ANY($1::uuid[])",
            [r["id"] for r in rows],
        )
    by_person: dict[Any, list[dict]] = {}
    for event in life:
        by_person.setdefault(event["person_id"], []).append(dict(event))
    wrong = []
    for row in rows:
        got = orjson.loads(row["payload"])["target_groups"]
        events = events_repo.to_life_events(by_person.get(row["id"], []))
        want = orjson.loads(
            orjson.dumps(groups_of(dict(row), events, local_date(row["occurred_at"])))
        )
        if got != want:
            wrong.append((str(row["id"]), got, want))
    return len(rows), wrong


def test_target_groups_in_imported_events_follow_the_rules(db_url, first_import, second_import):
    checked, wrong = asyncio.run(_groups_disagree(db_url, first_import["events_before"]))
    assert checked > 500
    assert wrong == []


def test_moves_births_and_corrections_are_in_the_registry(db_url, extracts, second_import):
    base, _, changed, _, expected = extracts
    kk_of = dict(zip(changed.columns["NIK"], changed.columns["NO_KK"], strict=True))
    for nik in expected.moves_within[:10] + expected.births[:10]:
        row = fetch(
            db_url,
            "SELECT h.kk_hash FROM person p JOIN household h ON h.id = p.household_id"
            " WHERE p.nik_hash = $1",
            lookup_hash("nik", nik, pii_codec().hash_key),
        )[0]
        assert row["kk_hash"] == lookup_hash("kk_number", kk_of[nik], pii_codec().hash_key)
    baby = expected.births[0]
    mother_nik = changed.columns["NIK_IBU"][changed.columns["NIK"].index(baby)]
    mother = fetch(
        db_url,
        "SELECT p.mother_id = m.id AS linked FROM person p, person m"
        " WHERE p.nik_hash = $1 AND m.nik_hash = $2",
        lookup_hash("nik", baby, pii_codec().hash_key),
        lookup_hash("nik", mother_nik, pii_codec().hash_key),
    )
    assert mother[0]["linked"] is True
    assert asyncio.run(_rules_agree(db_url)) == []


def test_conflicts_for_operator_edited_records(client_for, extracts, second_import, operator_edits):
    *_, expected = extracts
    job = second_import["job"]
    regency = client_for("regency_officer", REGENCY)
    r = regency.get("/v1/dukcapil/conflicts", params={"import_id": job["id"]})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    corrected = {operator_edits[n]: FIELD_OF[expected.changed[n]] for n in list(operator_edits)[:3]}
    assert {c["person_id"]: [f["field"] for f in c["fields"]] for c in items} == {
        pid: [field] for pid, field in corrected.items()
    }
    assert all(c["status"] == "open" and c["record_type"] == "person" for c in items)


def test_deaths_and_moves_out_wait_for_confirmation(client_for, db_url, extracts, second_import):
    *_, expected = extracts
    job = second_import["job"]
    regency = client_for("regency_officer", REGENCY)
    flags = regency.get("/v1/dukcapil/exits", params={"import_id": job["id"], "limit": 500})
    assert flags.status_code == 200, flags.text
    by_kind = Counter(f["kind"] for f in flags.json()["items"])
    assert by_kind == Counter({"died": len(expected.deaths), "moved_out": len(expected.moves_out)})
    for nik in expected.deaths + expected.moves_out:
        alive = fetch(
            db_url,
            "SELECT death_date IS NULL AND household_id IS NOT NULL AS in_place FROM person"
            " WHERE nik_hash = $1",
            lookup_hash("nik", nik, pii_codec().hash_key),
        )
        assert alive[0]["in_place"] is True  # nothing applied before an operator says so


def _flag(client: httpx.Client, import_id: str, kind: str, index: int = 0) -> dict[str, Any]:
    items = client.get(
        "/v1/dukcapil/exits", params={"import_id": import_id, "kind": kind, "limit": 500}
    ).json()["items"]
    return items[index]


def test_confirming_a_death_and_a_move_out(client_for, db_url, second_import):
    job = second_import["job"]
    regency = client_for("regency_officer", REGENCY)
    died = _flag(regency, job["id"], "died")
    operator = client_for("village_operator", died["village_code"])
    before = last_event_id(db_url)
    r = operator.post(f"/v1/dukcapil/exits/{died['id']}/confirm", json={"note": "surat kematian"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "confirmed"
    person = operator.get(f"/v1/persons/{died['person_id']}").json()
    assert person["alive"] is False
    assert person["death_date"] == died["death_date"]
    assert person["memberships"][-1]["end_reason"] == "died"
    events = events_by_type(db_url, before)
    assert events["person.died"] == 1 and events["krs.assessed"] == 1
    again = operator.post(f"/v1/dukcapil/exits/{died['id']}/confirm", json={})
    assert again.status_code == 409

    gone = _flag(regency, job["id"], "moved_out")
    operator = client_for("village_operator", gone["village_code"])
    before = last_event_id(db_url)
    r = operator.post(f"/v1/dukcapil/exits/{gone['id']}/confirm", json={})
    assert r.status_code == 200, r.text
    person = operator.get(f"/v1/persons/{gone['person_id']}").json()
    assert person["household_id"] is None and person["alive"] is True
    moved = fetch(
        db_url,
        "SELECT payload FROM outbox_event WHERE id > $1 AND type = 'person.moved'",
        before,
    )
    payload = orjson.loads(moved[0]["payload"])
    assert payload["household_id"] is None
    assert payload["from_household_id"] == gone["household_id"]

    kept = _flag(regency, job["id"], "moved_out", 1)
    operator = client_for("village_operator", kept["village_code"])
    r = operator.post(f"/v1/dukcapil/exits/{kept['id']}/reject", json={"note": "masih tinggal"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert operator.get(f"/v1/persons/{kept['person_id']}").json()["household_id"] is not None
    outsider = client_for("village_operator", "61.04.16.2007")
    assert outsider.post(f"/v1/dukcapil/exits/{kept['id']}/confirm", json={}).status_code == 404


def test_resolving_conflicts(client_for, extracts, second_import, operator_edits):
    _, _, changed, _, expected = extracts
    job = second_import["job"]
    regency = client_for("regency_officer", REGENCY)
    items = regency.get("/v1/dukcapil/conflicts", params={"import_id": job["id"]}).json()["items"]
    take, keep = items[0], items[1]
    operator = client_for("village_operator", take["village_code"])
    r = operator.post(
        f"/v1/dukcapil/conflicts/{take['id']}/resolve", json={"resolution": "take_dukcapil"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "took_dukcapil"
    nik = next(n for n, pid in operator_edits.items() if pid == take["person_id"])
    field = FIELD_OF[expected.changed[nik]]
    wanted = changed.columns[expected.changed[nik]][changed.columns["NIK"].index(nik)]
    person = operator.get(f"/v1/persons/{take['person_id']}").json()
    if field in ("full_name", "birth_place"):
        assert person[field].upper() == wanted
    else:
        table = OCCUPATION if field == "occupation" else EDUCATION
        assert person[field] == {label: code for code, label in table.items()}[wanted]
    assert person["has_birth_certificate"] is True  # the operator's own edit stays

    operator = client_for("village_operator", keep["village_code"])
    before = operator.get(f"/v1/persons/{keep['person_id']}").json()
    r = operator.post(
        f"/v1/dukcapil/conflicts/{keep['id']}/resolve", json={"resolution": "keep_registry"}
    )
    assert r.status_code == 200 and r.json()["status"] == "kept_registry"
    after = operator.get(f"/v1/persons/{keep['person_id']}").json()
    assert after == before
    twice = operator.post(
        f"/v1/dukcapil/conflicts/{keep['id']}/resolve", json={"resolution": "take_dukcapil"}
    )
    assert twice.status_code == 409


def test_report_csv_lists_every_change(admin, second_import):
    job = second_import["job"]
    r = admin.get(f"/v1/dukcapil/imports/{job['id']}/report.csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    kinds = Counter(row["kind"] for row in csv.DictReader(io.StringIO(r.text)))
    counts = job["counts"]
    assert kinds["person_moved"] == counts["persons_moved"]
    assert kinds["person_updated"] == counts["persons_updated"]
    assert kinds["person_conflict"] == counts["person_conflicts"]
    assert kinds["person_born"] == counts["births"]
    assert kinds["person_born"] + kinds["person_added"] == counts["persons_added"]
    assert kinds["death_reported"] == counts["deaths_reported"]
    assert kinds["moved_out_reported"] == counts["moved_out_reported"]
    assert kinds["household_added"] == counts["households_added"]


def test_import_permissions(client_for, extracts):
    _, base_path, *_ = extracts
    operator = client_for("village_operator", "61.07.01.2001")
    assert upload(operator, base_path, today()).status_code == 403
    elsewhere = client_for("admin", "61.04")
    assert upload(elsewhere, base_path, today()).status_code == 403
    bad = elsewhere.post(
        "/v1/dukcapil/imports",
        files={"file": ("x.csv", b"just some text without columns\n1\n", "text/csv")},
        data={"regency_code": "61.04"},
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "extract_not_delimited"
