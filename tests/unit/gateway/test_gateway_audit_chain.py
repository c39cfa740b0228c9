"""The tamper-evident audit chain."""

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from gateway.audit.chain import (
    GENESIS_HASH,
    AuditEntry,
    ChainedEntry,
    Outcome,
    append,
    build_chain,
    canonical,
    entry_hash,
    verify_chain,
)

T0 = datetime(2025, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)


def entry(n: int, **changes) -> AuditEntry:
    base = AuditEntry(
        actor=f"user-{n}",
        role="health_worker",
        client_id="web",
        operation="registry.person.read_pii",
        record_type="person",
        record_id=f"0190f1c2-0000-7000-8000-00000000000{n}",
        fields=("nik", "full_name"),
        purpose="service_delivery",
        request_id=f"req-{n}",
        outcome=Outcome.ALLOWED,
        at=T0 + timedelta(minutes=n),
    )
    return replace(base, **changes)


@pytest.fixture
def chain() -> list[ChainedEntry]:
    return build_chain([entry(n) for n in range(5)])


def test_canonical_form_written_out_by_hand() -> None:
    expected = (
        '{"actor":"user-0","at":"2025-03-04T05:06:07.890000Z","client_id":"web",'
        '"fields":["full_name","nik"],"operation":"registry.person.read_pii",'
        '"outcome":"allowed","purpose":"service_delivery","record_id":'
        '"0190f1c2-0000-7000-8000-000000000000","record_type":"person",'
        '"request_id":"req-0","role":"health_worker","v":1}'
    )
    assert canonical(entry(0)) == expected.encode()
    assert (
        entry_hash(GENESIS_HASH, entry(0))
        == hashlib.sha256(bytes(32) + expected.encode()).hexdigest()
    )


def test_canonical_ignores_field_order_and_timezone_of_the_same_instant() -> None:
    wib = timezone(timedelta(hours=7))
    same = entry(0, fields=("full_name", "nik"), at=T0.astimezone(wib))
    assert canonical(same) == canonical(entry(0))
    with pytest.raises(ValueError):
        canonical(entry(0, at=datetime(2025, 3, 4, 5, 6, 7)))


def test_intact_chain(chain: list[ChainedEntry]) -> None:
    assert [c.seq for c in chain] == [1, 2, 3, 4, 5]
    assert chain[0].prev_hash == GENESIS_HASH
    assert all(chain[i].prev_hash == chain[i - 1].hash for i in range(1, 5))
    assert verify_chain(chain) is None
    assert verify_chain(chain, expected_head=chain[-1].hash) is None
    assert verify_chain([]) is None


@pytest.mark.parametrize(
    "change",
    [
        {"purpose": "case_review"},
        {"outcome": Outcome.DENIED},
        {"fields": ("nik",)},
        {"actor": "someone-else"},
        {"at": T0 + timedelta(minutes=2, seconds=1)},
    ],
)
def test_modified_entry(chain: list[ChainedEntry], change: dict) -> None:
    chain[2] = replace(chain[2], entry=replace(chain[2].entry, **change))
    assert verify_chain(chain) == 2


def test_modified_entry_with_recomputed_own_hash(chain: list[ChainedEntry]) -> None:
    forged = replace(chain[2].entry, record_id="other")
    chain[2] = replace(chain[2], entry=forged, hash=entry_hash(chain[2].prev_hash, forged))
    assert verify_chain(chain) == 3


def test_deleted_entry(chain: list[ChainedEntry]) -> None:
    del chain[1]
    assert verify_chain(chain) == 1


def test_deleted_first_entry(chain: list[ChainedEntry]) -> None:
    assert verify_chain(chain[1:]) == 0


def test_deleted_last_entry_needs_the_head(chain: list[ChainedEntry]) -> None:
    head = chain[-1].hash
    assert verify_chain(chain[:-1]) is None
    assert verify_chain(chain[:-1], expected_head=head) == 4


def test_reordered_entries(chain: list[ChainedEntry]) -> None:
    chain[1], chain[2] = chain[2], chain[1]
    assert verify_chain(chain) == 1


def test_renumbered_entry(chain: list[ChainedEntry]) -> None:
    chain[3] = replace(chain[3], seq=9)
    assert verify_chain(chain) == 3


def test_segment_verification(chain: list[ChainedEntry]) -> None:
    assert verify_chain(chain[2:], prev_hash=chain[1].hash) is None
    assert verify_chain(chain[2:]) == 0


def test_append_continues_a_stored_chain(chain: list[ChainedEntry]) -> None:
    more = build_chain([entry(7), entry(8)], head=chain[-1])
    assert [c.seq for c in more] == [6, 7]
    assert verify_chain(chain + more) is None
    assert append(None, entry(0)) == chain[0]
