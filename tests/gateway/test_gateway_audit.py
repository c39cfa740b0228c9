"""The access audit log: what the gateway records, what an auditor can ask of it
(SCENARIOS 9), and ``kkb audit verify`` catching tampering with the stored chain."""

import asyncio
import random
import subprocess
import uuid
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from common.db import make_engine, make_sessionmaker
from kkb import database
from kkb.migrate import upgrade_all
from tests.auth_helpers import make_user, password_token
from tests.conftest import fresh_database
from tests.gateway.test_gateway_cli import kkb

KALI_NILAM = "61.04.16.2007"


def _client(stack, db_url, role: str, region: str, **headers: str) -> tuple[httpx.Client, str]:
    username = make_user(db_url, role, region)
    token = password_token(stack.url("gateway"), username)
    me = httpx.get(f"{stack.url('gateway')}/v1/me", headers={"Authorization": f"Bearer {token}"})
    client = httpx.Client(
        base_url=stack.url("gateway"),
        headers={"Authorization": f"Bearer {token}", **headers},
        timeout=30,
    )
    return client, me.json()["sub"]


def _nik(birth: date, sex: int) -> str:
    day = birth.day + (40 if sex == 2 else 0)
    return f"610416{day:02d}{birth.month:02d}{birth.year % 100:02d}{random.randint(1, 9999):04d}"


def test_auditor_lists_who_saw_a_mother_and_why(stack, db_url):
    """SCENARIOS 9: everyone who viewed her unmasked record, with their purpose."""
    since = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    operator, operator_sub = _client(
        stack, db_url, "village_operator", KALI_NILAM, **{"X-KKB-Purpose": "service_delivery"}
    )
    birth = date(1997, 4, 12)
    with operator:
        created = operator.post(
            "/v1/households",
            json={
                "kk_number": f"610416150120{random.randint(1, 9999):04d}",
                "village_code": KALI_NILAM,
                "members": [
                    {
                        "full_name": "Siti Sintetis",
                        "sex": 2,
                        "birth_date": str(birth),
                        "relationship": 1,
                        "nik": _nik(birth, 2),
                    }
                ],
            },
        )
        assert created.status_code == 201, created.text
        mother = created.json()["members"][0]["id"]
        assert operator.get(f"/v1/persons/{mother}").status_code == 200

    bidan, bidan_sub = _client(
        stack, db_url, "health_worker", "61.04.16", **{"X-KKB-Purpose": "case_review"}
    )
    with bidan:
        seen = bidan.get(f"/v1/persons/{mother}")
        assert seen.status_code == 200
    # A masked read (no purpose) shows no personal data and is not an access to record.
    masked, masked_sub = _client(stack, db_url, "regency_officer", "61.04")
    with masked:
        assert masked.get(f"/v1/persons/{mother}").status_code == 200

    auditor, _ = _client(stack, db_url, "auditor", "61.04")
    with auditor:
        report = auditor.get(f"/v1/audit/subjects/{mother}", params={"since": since})
        assert report.status_code == 200, report.text
        accesses = report.json()["accesses"]
        by_actor = {(a["actor"], a["method"]): a for a in accesses}
        assert (bidan_sub, "GET") in by_actor
        assert by_actor[(bidan_sub, "GET")]["purpose"] == "case_review"
        assert by_actor[(bidan_sub, "GET")]["role"] == "health_worker"
        assert by_actor[(operator_sub, "GET")]["purpose"] == "service_delivery"
        assert by_actor[(bidan_sub, "GET")]["fields"], "the unmasked fields are named"
        assert masked_sub not in {a["actor"] for a in accesses}

        by_user = auditor.get("/v1/audit/entries", params={"actor": bidan_sub, "since": since})
        entries = by_user.json()["items"]
        assert entries and {e["actor"] for e in entries} == {bidan_sub}
        assert mother in entries[0]["subject_ids"]

        by_person = auditor.get(
            "/v1/audit/entries", params={"person_id": mother, "since": since}
        ).json()["items"]
        assert {e["actor"] for e in by_person} >= {operator_sub, bidan_sub}
        assert all(mother in e["subject_ids"] for e in by_person)
        seqs = [e["seq"] for e in by_person]
        assert seqs == sorted(seqs)

        future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        assert auditor.get("/v1/audit/entries", params={"since": future}).json()["items"] == []
        until_start = auditor.get(
            "/v1/audit/entries", params={"person_id": mother, "until": since}
        ).json()["items"]
        assert until_start == []

        write = next(e for e in by_person if e["method"] == "POST")
        assert write["actor"] == operator_sub
        assert write["outcome"] == 201

        verified = auditor.get("/v1/audit/verify")
        assert verified.json()["intact"] is True


def test_gateway_writes_and_refusals_are_audited(stack, db_url):
    since = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    admin, admin_sub = _client(stack, db_url, "admin", "61.04")
    cadre, cadre_sub = _client(stack, db_url, "tpk_cadre", KALI_NILAM)
    with admin, cadre:
        name = f"audited-{uuid.uuid4().hex[:6]}"
        created = admin.post(
            "/v1/admin/users",
            json={
                "username": name,
                "password": "long-enough-password",
                "role": "analyst",
                "region": "61.04",
            },
        )
        assert created.status_code == 201
        assert cadre.post("/v1/admin/clients", json={}).status_code == 403
        auditor, _ = _client(stack, db_url, "auditor", "61.04")
        with auditor:
            mine = auditor.get(
                "/v1/audit/entries", params={"actor": admin_sub, "since": since}
            ).json()["items"]
            assert any(
                e["operation"] == "admin.users"
                and e["record_ids"] == [created.json()["id"]]
                and e["outcome"] == 201
                for e in mine
            )
            refused = auditor.get(
                "/v1/audit/entries", params={"actor": cadre_sub, "since": since}
            ).json()["items"]
            assert [(e["operation"], e["outcome"]) for e in refused] == [("admin.clients", 403)]


def test_non_auditors_cannot_read_the_log(stack, db_url):
    analyst, _ = _client(stack, db_url, "analyst", "61")
    with analyst:
        assert analyst.get("/v1/audit/entries").status_code == 403
        assert analyst.get(f"/v1/audit/subjects/{uuid.uuid4()}").status_code == 403


# --- tampering -------------------------------------------------------------------------


@pytest.fixture
def audit_db(pg_server):
    """A database of its own: these tests damage the chain on purpose."""
    url = fresh_database(pg_server, "audit")
    upgrade_all(url)
    yield url
    asyncio.run(database.drop_database(pg_server.admin_url, database.database_of(url)))


async def _append(db_url: str, count: int) -> None:
    from gateway import store

    engine = make_engine(database.service_url(db_url, "gateway"), "gateway", pool_size=1)
    try:
        for n in range(count):
            async with make_sessionmaker(engine)() as session, session.begin():
                await store.append_audit(
                    session,
                    [
                        {
                            "at": datetime.now(UTC),
                            "actor": f"user-{n}",
                            "role": "health_worker",
                            "client_id": None,
                            "operation": "registry.person.read",
                            "method": "GET",
                            "route": f"/v1/persons/{uuid.uuid4()}",
                            "record_type": "person",
                            "record_ids": [str(uuid.uuid4())],
                            "subject_ids": [str(uuid.uuid4())],
                            "fields": ["nik", "full_name"],
                            "purpose": "service_delivery",
                            "request_id": uuid.uuid4().hex,
                            "outcome": 200,
                            "outcome_kind": "allowed",
                        }
                    ],
                )
    finally:
        await engine.dispose()


async def _as_admin(db_url: str, *statements: str) -> None:
    """What an intruder with the database owner's password could do."""
    conn = await database.connect(db_url)
    try:
        for sql in statements:
            await conn.execute(sql)
    finally:
        await conn.close()


def _verify(db_url: str) -> subprocess.CompletedProcess:
    return kkb(db_url, "audit", "verify")


def test_verify_detects_an_altered_entry(audit_db):
    asyncio.run(_append(audit_db, 6))
    intact = _verify(audit_db)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert "6 entries" in intact.stdout

    with pytest.raises(Exception, match="append-only"):
        asyncio.run(_as_admin(audit_db, "UPDATE gateway.audit_entry SET purpose = NULL"))

    asyncio.run(
        _as_admin(
            audit_db,
            "ALTER TABLE gateway.audit_entry DISABLE TRIGGER audit_entry_no_change",
            "UPDATE gateway.audit_entry SET purpose = 'research' WHERE seq = 3",
            "ALTER TABLE gateway.audit_entry ENABLE TRIGGER audit_entry_no_change",
        )
    )
    broken = _verify(audit_db)
    assert broken.returncode == 1
    assert "BROKEN at seq 3" in broken.stdout


def test_verify_detects_a_removed_entry_and_dropped_newest_entries(audit_db):
    asyncio.run(_append(audit_db, 6))
    asyncio.run(
        _as_admin(
            audit_db,
            "ALTER TABLE gateway.audit_entry DISABLE TRIGGER audit_entry_no_change",
            "DELETE FROM gateway.audit_entry WHERE seq >= 5",
            "ALTER TABLE gateway.audit_entry ENABLE TRIGGER audit_entry_no_change",
        )
    )
    # The remaining chain 1..4 is internally valid; only the head kept beside it says
    # that entries 5 and 6 existed.
    dropped = _verify(audit_db)
    assert dropped.returncode == 1
    assert "BROKEN at seq 5" in dropped.stdout
    assert "newest entries missing" in dropped.stdout

    with pytest.raises(Exception, match="only moves forward"):
        asyncio.run(_as_admin(audit_db, "UPDATE gateway.audit_head SET seq = 4, entries = 4"))


def test_verify_detects_a_gap_in_the_middle(audit_db):
    asyncio.run(_append(audit_db, 5))
    asyncio.run(
        _as_admin(
            audit_db,
            "ALTER TABLE gateway.audit_entry DISABLE TRIGGER audit_entry_no_change",
            "DELETE FROM gateway.audit_entry WHERE seq = 2",
            "ALTER TABLE gateway.audit_entry ENABLE TRIGGER audit_entry_no_change",
        )
    )
    gap = _verify(audit_db)
    assert gap.returncode == 1
    assert "BROKEN at seq 3" in gap.stdout  # seq 3's predecessor hash no longer matches
