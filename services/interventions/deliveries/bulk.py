"""Bulk deliveries of one session: per-row checks in Python (types, catalogue, dates),
COPY into a staging table, set-based checks against the subjects (region, birth, death,
eligibility), then one insert of the deliveries and one of their events.

A rejected row is never half-applied: a row is stored with its event or not at all.
``on_error=skip`` (default, as for posyandu uploads) stores every valid row and reports
the others; ``on_error=reject`` stores nothing when any row is invalid.
"""

import asyncio
import re
import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

import httpx
import uuid_utils
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from common.clock import today
from common.errors import ProblemError
from common.i18n import current_lang, tr
from common.identity import Identity
from common.ids import uuid7
from services.interventions.catalogue import repository as catalogue_repo
from services.interventions.catalogue.rules import (
    UNIT_LABELS,
    CatalogueEntry,
    FundingSource,
    deliverable_version,
    versions_of,
)
from services.interventions.deliveries import repository as repo
from services.interventions.deliveries.schemas import BulkResult, DeliveryBulk, RowError
from services.interventions.deliveries.service import resolve_sector
from services.interventions.eligibility import evaluate, explain_ineligible
from services.interventions.subjects.consumer import lookup_subject
from services.interventions.subjects.projection import eligibility_subject
from services.interventions.subjects.service import registry_unavailable
from services.interventions.targets.sql_rules import rule_sql

Text = dict[str, str]
ROW_FIELDS = frozenset(
    {
        "subject_id",
        "quantity",
        "note",
        "intervention_code",
        "delivered_on",
        "unit",
        "funding_source",
    }
)
LOOKUP_CONCURRENCY = 8
FUNDING_SOURCES = frozenset(f.value for f in FundingSource)
UUID_TEXT = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")
# Explaining a refusal re-evaluates the rule; past this many rows one message serves.
MAX_EXPLAINED = 2000

_SQL_ERRORS: dict[str, tuple[str, Text]] = {
    "not_found": (
        "subject_id",
        {
            "id": "Subjek tidak ditemukan atau di luar wilayah Anda",
            "en": "Subject not found or outside your region",
        },
    ),
    "subject_merged": (
        "subject_id",
        {
            "id": "Data subjek ini telah digabung ke data lain",
            "en": "This subject record was merged into another one",
        },
    ),
    "delivery_before_birth": (
        "delivered_on",
        {
            "id": "Tanggal pemberian sebelum tanggal lahir subjek",
            "en": "The delivery date is before the subject's birth",
        },
    ),
    "delivery_after_death": (
        "delivered_on",
        {
            "id": "Tanggal pemberian setelah subjek meninggal",
            "en": "The delivery date is after the subject's death",
        },
    ),
    "intervention_not_applicable": (
        "subject_id",
        {
            "id": "Intervensi tidak berlaku untuk subjek ini pada tanggal itu",
            "en": "The intervention does not apply to this subject on that day",
        },
    ),
}


class _Rows:
    """Per-row findings, in the caller's language."""

    def __init__(self) -> None:
        self.errors: list[RowError] = []
        self.lang = current_lang.get()

    def add(self, row: int, field: str, code: str, message: Text | str) -> None:
        self.errors.append(
            RowError(
                row=row, loc=["body", "rows", row, field], code=code, msg=tr(message, self.lang)
            )
        )


def _text(id_: str, en: str) -> Text:
    return {"id": id_, "en": en}


def _parse_day(value: Any) -> date | None:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


class _Checker:
    """The per-row checks that need no database: types, catalogue version, unit, dates."""

    def __init__(
        self,
        body: DeliveryBulk,
        entries: Sequence[CatalogueEntry],
        caller: Identity,
        today_: date,
        report: _Rows,
    ) -> None:
        self.session = body.session
        self.entries = entries
        self.caller = caller
        self.today = today_
        self.report = report
        self.versions: dict[tuple[str, date], CatalogueEntry | Any] = {}
        self.sectors: dict[str, str | ProblemError] = {}

    def version(self, code: str, on: date) -> Any:
        key = (code, on)
        if key not in self.versions:
            self.versions[key] = deliverable_version(self.entries, code, on)
        return self.versions[key]

    def sector(self, entry: CatalogueEntry) -> str | ProblemError:
        if entry.code not in self.sectors:
            try:
                self.sectors[entry.code] = resolve_sector(self.caller, entry, self.session.sector)
            except ProblemError as exc:
                self.sectors[entry.code] = exc
        return self.sectors[entry.code]

    def row(self, n: int, raw: dict[str, Any]) -> tuple | None:
        """The staging record of a row, or None when it has errors (all reported)."""
        add, before = self.report.add, len(self.report.errors)
        for key in sorted(set(raw) - ROW_FIELDS):
            add(n, key, "unknown_field", _text("Kolom tidak dikenal", "Unknown field"))
        subject_id = raw.get("subject_id")
        if not isinstance(subject_id, str) or not UUID_TEXT.match(subject_id):
            subject_id = None
            add(
                n,
                "subject_id",
                "invalid_subject_id",
                _text("subject_id harus UUID", "subject_id must be a UUID"),
            )
        code = raw.get("intervention_code") or self.session.intervention_code
        if not isinstance(code, str) or not code:
            code = None
            add(
                n,
                "intervention_code",
                "missing_intervention",
                _text("Kode intervensi wajib diisi", "intervention_code is required"),
            )
        on = _parse_day(raw["delivered_on"]) if "delivered_on" in raw else self.session.delivered_on
        if on is None:
            add(
                n,
                "delivered_on",
                "invalid_date",
                _text(
                    "Tanggal pemberian wajib (YYYY-MM-DD)", "delivered_on is required (YYYY-MM-DD)"
                ),
            )
        elif on > self.today:
            add(
                n,
                "delivered_on",
                "delivery_in_future",
                _text(
                    "Tanggal pemberian tidak boleh di masa depan",
                    "The delivery date cannot be in the future",
                ),
            )
        quantity = raw.get("quantity")
        if not isinstance(quantity, int | float) or isinstance(quantity, bool) or quantity >= 1e9:
            quantity = None
            add(
                n,
                "quantity",
                "invalid_quantity",
                _text("Jumlah harus angka", "quantity must be a number"),
            )
        elif not quantity > 0:
            add(
                n,
                "quantity",
                "quantity_not_positive",
                _text("Jumlah harus > 0", "Quantity must be > 0"),
            )
        funding = raw.get("funding_source") or self.session.funding_source
        if funding not in FUNDING_SOURCES:
            allowed = ", ".join(FundingSource)
            add(
                n,
                "funding_source",
                "unknown_funding_source",
                _text(
                    f"Sumber dana harus salah satu dari: {allowed}",
                    f"Funding source must be one of: {allowed}",
                ),
            )
        note = raw.get("note")
        if note is not None and (not isinstance(note, str) or len(note) > 1000):
            add(
                n,
                "note",
                "invalid_note",
                _text(
                    "Catatan paling panjang 1000 karakter",
                    "note is text of at most 1000 characters",
                ),
            )
        entry, sector, unit = None, None, raw.get("unit") or self.session.unit
        if code is not None and on is not None:
            found = self.version(code, on)
            if isinstance(found, CatalogueEntry):
                entry = found
                unit = unit or entry.unit.value
                if unit != entry.unit.value:
                    label = UNIT_LABELS[entry.unit]
                    add(
                        n,
                        "unit",
                        "unit_mismatch",
                        _text(
                            f"Satuan {code} adalah {entry.unit.value} ({label['id']})",
                            f"The unit of {code} is {entry.unit.value} ({label['en']})",
                        ),
                    )
                sector = self.sector(entry)
                if isinstance(sector, ProblemError):
                    add(n, "intervention_code", sector.code, sector.detail or sector.code)
            else:
                add(
                    n,
                    "intervention_code" if found.loc == "code" else "delivered_on",
                    found.code,
                    found.message,
                )
        if len(self.report.errors) > before:
            return None
        assert entry is not None and subject_id is not None
        return (
            n,
            uuid_utils.uuid7(),  # asyncpg's COPY takes any object with .bytes
            uuid_utils.uuid7(),
            subject_id,
            entry.code,
            entry.version,
            on,
            float(quantity),
            unit,
            funding,
            sector,
            note,
        )


def _uses_krs(rule: dict[str, Any]) -> bool:
    if rule["op"] in ("krs", "krs_criterion"):
        return True
    return any(_uses_krs(r) for r in rule.get("rules", [])) or (
        "rule" in rule and _uses_krs(rule["rule"])
    )


async def _fetch_unknown(request: Request, ids: list[uuid.UUID]) -> None:
    app = request.app
    limit = app.state.settings.bulk_lookup_limit
    gate = asyncio.Semaphore(LOOKUP_CONCURRENCY)

    async def one(subject_id: uuid.UUID) -> None:
        async with gate, app.state.engine.begin() as conn:
            await lookup_subject(app.state.registry_client, conn, subject_id)

    try:
        await asyncio.gather(*(one(i) for i in ids[:limit]))
    except httpx.HTTPError as exc:
        raise registry_unavailable() from exc


async def _check_eligibility(
    session: AsyncSession, used: list[CatalogueEntry]
) -> dict[tuple[str, int], CatalogueEntry]:
    by_version = {}
    for n, entry in enumerate(used):
        by_version[(entry.code, entry.version)] = entry
        rule = rule_sql(
            entry.eligibility,
            start="st.delivered_on",
            end="st.delivered_on",
            prefix=f"e{n}_",
            krs="s.household_krs",
        )
        if rule.exact:
            await repo.mark_ineligible(session, entry.code, entry.version, rule.sql, rule.params)
            continue
        rows = await repo.stage_rows_for(session, entry.code, entry.version, errors_only=False)
        bad = [
            r["row_no"]
            for r in rows
            if not evaluate(entry.eligibility, eligibility_subject(r), r["delivered_on"]).eligible
        ]
        await repo.mark_rows(session, bad, "intervention_not_applicable")
    return by_version


async def _sql_errors(
    session: AsyncSession, by_version: dict[tuple[str, int], CatalogueEntry], report: _Rows
) -> int:
    explained: dict[int, Text] = {}
    for (code, version), entry in by_version.items():
        if len(explained) >= MAX_EXPLAINED:
            break
        for r in (await repo.stage_rows_for(session, code, version, errors_only=True))[
            :MAX_EXPLAINED
        ]:
            why = explain_ineligible(
                entry.eligibility,
                eligibility_subject(r),
                r["delivered_on"],
                code=entry.code,
                name=entry.name,
            )
            if why is not None:
                explained[r["row_no"]] = why
    found = await repo.stage_errors(session)
    for row_no, code in found:
        field, message = _SQL_ERRORS[code]
        report.add(row_no, field, code, explained.get(row_no, message))
    return len(found)


def _rejected(report: _Rows, received: int, code: str, en: str, id_: str) -> ProblemError:
    rows = sorted({e.row for e in report.errors})
    return ProblemError(
        422,
        code,
        detail={"en": en, "id": id_},
        errors=[e.model_dump() for e in sorted(report.errors, key=lambda e: e.row)],
        extra={"received": received, "rejected": len(rows), "accepted": 0},
    )


async def record_bulk(
    request: Request, session: AsyncSession, caller: Identity, body: DeliveryBulk
) -> BulkResult:
    report = _Rows()
    codes = {r.get("intervention_code") for r in body.rows} | {body.session.intervention_code}
    wanted = sorted(c for c in codes if isinstance(c, str) and c)
    entries = await catalogue_repo.versions_of_codes(session, wanted)
    checker = _Checker(body, entries, caller, today(), report)
    records = [rec for n, raw in enumerate(body.rows) if (rec := checker.row(n, raw)) is not None]
    sql_rejected = 0
    if records:
        await repo.stage(session, records)
        used = {(r[4], r[5]) for r in records}
        versions = [e for c, v in sorted(used) for e in versions_of(entries, c) if e.version == v]
        unknown = await repo.stage_subjects(
            session, any(_uses_krs(e.eligibility) for e in versions)
        )
        if unknown:
            await _fetch_unknown(request, unknown)
            await repo.add_stage_subjects(session, unknown)
        await repo.mark_subject_errors(session, caller.region)
        by_version = await _check_eligibility(session, versions)
        sql_rejected = await _sql_errors(session, by_version, report)
    received = len(body.rows)
    accepted = len(records) - sql_rejected
    if report.errors and body.on_error == "reject":
        raise _rejected(
            report,
            received,
            "bulk_rejected",
            "Some rows are invalid; nothing was stored (on_error=reject). See errors.",
            "Sebagian baris tidak valid; tidak ada yang disimpan (on_error=reject). Lihat errors.",
        )
    if accepted == 0:
        raise _rejected(
            report,
            received,
            "no_valid_rows",
            "No row is valid; nothing was stored. See errors.",
            "Tidak ada baris yang valid; tidak ada yang disimpan. Lihat errors.",
        )
    session_values = body.session
    batch = {
        "id": uuid7(),
        "reference": session_values.reference,
        "intervention_code": session_values.intervention_code,
        "delivered_on": session_values.delivered_on,
        "organisation": session_values.organisation,
        "officer": session_values.officer,
        "place": session_values.place,
        "funding_source": session_values.funding_source,
        "on_error": body.on_error,
        "rows_received": received,
        "rows_accepted": accepted,
        "recorded_by": caller.sub,
    }
    await repo.insert_batch(session, batch)
    stored = await repo.insert_staged(
        session,
        {
            "batch_id": batch["id"],
            "organisation": session_values.organisation,
            "officer": session_values.officer,
            "place": session_values.place,
            "recorded_by": caller.sub,
        },
    )
    return BulkResult(
        batch_id=batch["id"],
        on_error=body.on_error,
        received=received,
        accepted=stored,
        rejected=len({e.row for e in report.errors}),
        errors=sorted(report.errors, key=lambda e: e.row),
    )
