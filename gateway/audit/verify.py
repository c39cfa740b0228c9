"""Verify the stored audit chain against itself and against the head kept beside it."""

from dataclasses import asdict, dataclass

from gateway import store
from gateway.audit.chain import GENESIS_HASH, AuditEntry, ChainedEntry, Outcome, verify_chain

PAGE = 5000


@dataclass(frozen=True)
class ChainReport:
    intact: bool
    # Entries that verified before the first problem (all of them when intact).
    entries: int
    first_broken_seq: int | None = None
    reason: str | None = None

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


def _chained(row: dict) -> ChainedEntry:
    return ChainedEntry(
        row["seq"],
        AuditEntry(
            actor=row["actor"],
            role=row["role"],
            client_id=row["client_id"],
            operation=row["operation"],
            record_type=row["record_type"],
            record_id=store.audit_record_id(
                list(row["record_ids"]), [str(s) for s in row["subject_ids"]]
            ),
            fields=tuple(row["fields"]),
            purpose=row["purpose"],
            request_id=row["request_id"],
            outcome=Outcome(row["outcome_kind"]),
            at=row["at"],
        ),
        row["prev_hash"],
        row["hash"],
    )


async def verify_audit_chain(conn: store.Conn) -> ChainReport:
    """Walk the whole chain in pages; report the first entry that does not verify.

    Then compare the last entry with the head: entries removed from the end leave a
    valid shorter chain, which only the head reveals.
    """
    head = await store.audit_head(conn)
    checked, after, prev = 0, 0, GENESIS_HASH
    while rows := await store.all_audit_entries(conn, after, PAGE):
        chained = [_chained(r) for r in rows]
        if after and chained[0].seq != after + 1:
            return ChainReport(False, checked, after + 1, "entry missing")
        broken = verify_chain(chained, prev_hash=prev) if after else verify_chain(chained)
        if broken is not None:
            return ChainReport(False, checked + broken, chained[broken].seq, "hash mismatch")
        checked += len(chained)
        after, prev = chained[-1].seq, chained[-1].hash
    if head is None:
        return ChainReport(False, checked, after + 1, "head missing")
    if head["seq"] > after or head["entries"] > checked:
        return ChainReport(False, checked, after + 1, "newest entries missing")
    if head["seq"] < after or head["hash"] != prev or head["entries"] != checked:
        return ChainReport(False, checked, head["seq"] + 1, "entries beyond the head")
    return ChainReport(True, checked)
