"""Tamper-evident access audit log: a hash chain over canonical entries.

``hash_n = sha256(prev_hash_bytes || canonical(entry_n))`` with ``prev_hash`` of the
first entry = 64 zeros. Changing, removing or reordering any entry breaks the chain
from that point. Two limits, for the lead to close outside these pure functions:

* appends must be serialised (one writer, or a lock on the chain head row), or two
  entries will claim the same predecessor;
* someone able to rewrite the whole table can recompute every hash, and dropping the
  newest entries leaves a valid shorter chain: keep the head hash somewhere else too
  (periodic export, a signed checkpoint) and pass it as ``expected_head``.

The canonical form is compact JSON with sorted keys and UTF-8 text; with only strings,
booleans, integers and null in an entry this coincides with RFC 8785 (JCS).
"""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

GENESIS_HASH = "0" * 64
CANONICAL_VERSION = 1


class Outcome(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"
    ERROR = "error"


@dataclass(frozen=True)
class AuditEntry:
    actor: str
    role: str
    client_id: str | None
    operation: str
    record_type: str | None
    record_id: str | None
    # Names of the personal-data fields shown unmasked (empty for a masked read).
    fields: tuple[str, ...]
    purpose: str | None
    request_id: str
    outcome: Outcome
    at: datetime


@dataclass(frozen=True)
class ChainedEntry:
    seq: int
    entry: AuditEntry
    prev_hash: str
    hash: str


def canonical(entry: AuditEntry) -> bytes:
    if entry.at.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    body = {
        "v": CANONICAL_VERSION,
        "actor": entry.actor,
        "role": entry.role,
        "client_id": entry.client_id,
        "operation": entry.operation,
        "record_type": entry.record_type,
        "record_id": entry.record_id,
        # A set of names: the order they were listed in carries no meaning.
        "fields": sorted(entry.fields),
        "purpose": entry.purpose,
        "request_id": entry.request_id,
        "outcome": Outcome(entry.outcome).value,
        "at": entry.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(prev_hash: str, entry: AuditEntry) -> str:
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical(entry)).hexdigest()


def append(head: ChainedEntry | None, entry: AuditEntry) -> ChainedEntry:
    """Chain ``entry`` after ``head`` (``None`` for the first entry ever)."""
    prev = head.hash if head else GENESIS_HASH
    seq = head.seq + 1 if head else 1
    return ChainedEntry(seq, entry, prev, entry_hash(prev, entry))


def build_chain(
    entries: Sequence[AuditEntry], head: ChainedEntry | None = None
) -> list[ChainedEntry]:
    chained: list[ChainedEntry] = []
    for entry in entries:
        head = append(head, entry)
        chained.append(head)
    return chained


def verify_chain(
    entries: Sequence[ChainedEntry],
    *,
    prev_hash: str = GENESIS_HASH,
    expected_head: str | None = None,
) -> int | None:
    """Index of the first entry that breaks the chain, or ``None`` if it is intact.

    ``entries`` in ``seq`` order. To check a segment (e.g. the last six months) pass
    the hash of the entry just before it as ``prev_hash``. With ``expected_head``, a
    chain whose last hash differs (entries dropped from the end) fails at
    ``len(entries)``, the position of the first missing entry.
    """
    previous = prev_hash
    for index, item in enumerate(entries):
        if item.prev_hash != previous:
            return index
        if index > 0 and item.seq != entries[index - 1].seq + 1:
            return index
        if index == 0 and prev_hash == GENESIS_HASH and item.seq != 1:
            return index
        if entry_hash(previous, item.entry) != item.hash:
            return index
        previous = item.hash
    if expected_head is not None and previous != expected_head:
        return len(entries)
    return None
