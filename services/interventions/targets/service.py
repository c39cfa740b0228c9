"""Targets and gaps of one intervention in a region and period."""

from typing import Any

from fastapi import Response
from sqlalchemy.ext.asyncio import AsyncSession

from common.audit_header import mark_audit
from common.clock import today
from common.identity import Identity
from common.pagination import PageParams, encode_cursor
from common.pii import mask_birth_date
from services.interventions.catalogue import repository as catalogue_repo
from services.interventions.catalogue.rules import (
    DOSE_STATUS_LABELS,
    CatalogueEntry,
    DoseStatus,
    Violation,
    version_in_force,
)
from services.interventions.eligibility import evaluate
from services.interventions.problems import violation_problem
from services.interventions.subjects.projection import eligibility_subject
from services.interventions.targets import repository as repo
from services.interventions.targets.periods import Period
from services.interventions.targets.schemas import (
    InterventionRef,
    PeriodRead,
    TargetCounts,
    TargetItem,
    TargetsRead,
    VillageCounts,
)
from services.interventions.targets.sql_rules import rule_sql


def _entry_for(entries: list[CatalogueEntry], code: str, period: Period, as_of) -> CatalogueEntry:
    entry = version_in_force(entries, code, as_of) or version_in_force(entries, code, period.start)
    if entry is None:
        raise violation_problem(
            [
                Violation(
                    "intervention_not_in_force",
                    {
                        "id": f"Intervensi {code} tidak berlaku pada periode {period.label}",
                        "en": f"Intervention {code} is not in force in {period.label}",
                    },
                    "intervention",
                )
            ],
            ("query",),
        )
    return entry


async def eligible_where(
    session: AsyncSession, entry: CatalogueEntry, scope: repo.Scope, period: Period
) -> tuple[str, dict[str, Any], str]:
    """The WHERE clause selecting exactly the eligible subjects, and how it was found."""
    base, params = scope.where()
    params["period_end"] = period.end
    rule = rule_sql(entry.eligibility, start_day=period.start, end_day=period.end, prefix="rule_")
    params.update(rule.params)
    if rule.exact:
        return f"{base} AND {rule.sql}", params, "sql"
    found = await repo.candidates(session, f"{base} AND {rule.sql}", params)
    ids = [
        c["id"]
        for c in found
        if evaluate(entry.eligibility, eligibility_subject(c), period.start, period.end).eligible
    ]
    base_params = {k: v for k, v in params.items() if not k.startswith("rule_")}
    return (
        f"{base} AND s.id = ANY(:eligible_ids)",
        {**base_params, "eligible_ids": ids},
        ("sql+python"),
    )


def _item(raw: dict[str, Any], entry: CatalogueEntry, unmasked: bool) -> TargetItem:
    total = entry.dose.quantity if entry.dose else None
    received = float(raw["received"])
    expected = raw["expected_by_now"]
    status = raw["status"]
    return TargetItem(
        subject_id=raw["id"],
        subject_kind=raw["kind"],
        household_id=raw["household_id"],
        village_code=raw["village_code"],
        sex=raw["sex"],
        birth_date=raw["birth_date"] if unmasked else mask_birth_date(raw["birth_date"]),
        window_start=raw["w_start"],
        window_end=raw["w_end"],
        received=received,
        expected_total=total,
        expected_by_now=round(expected, 2) if expected is not None else None,
        remaining=max(total - received, 0.0) if total is not None else None,
        behind_by=round(max(expected - received, 0.0), 2) if expected is not None else None,
        percent=round(100 * received / total, 1) if total else None,
        status=status,
        status_label=DOSE_STATUS_LABELS[DoseStatus(status)] if status else None,
        last_delivered_on=raw["last_on"],
        deliveries=raw["deliveries"],
    )


async def targets_report(
    session: AsyncSession,
    caller: Identity,
    response: Response,
    *,
    code: str,
    period: Period,
    within: str | None,
    lokus_year: int | None,
    status: str | None,
    page: PageParams,
    by_village: bool,
) -> TargetsRead:
    entries = await catalogue_repo.versions(session, code)
    if not entries:
        raise violation_problem(
            [
                Violation(
                    "unknown_intervention",
                    {
                        "id": f"Intervensi {code} tidak ada di katalog",
                        "en": f"Intervention {code} is not in the catalogue",
                    },
                    "intervention",
                )
            ],
            ("query",),
            status=404,
        )
    as_of = period.as_of(today())
    entry = _entry_for(entries, code, period, as_of)
    scope = repo.Scope(
        entry.subject_kind.value, caller.region, within or "", lokus_year, period.start
    )
    where, params, method = await eligible_where(session, entry, scope, period)
    villages, raw_items = await repo.report(
        session,
        entry=entry,
        where=where,
        params=params,
        as_of=as_of,
        status=status,
        after=page.after,
        limit=page.limit + 1,
    )
    unmasked = caller.may_unmask
    more = len(raw_items) > page.limit
    raw_items = raw_items[: page.limit]
    items = [_item(r, entry, unmasked) for r in raw_items]
    counts = {
        key: sum(v[key] for v in villages)
        for key in (
            "eligible",
            "received_any",
            "no_delivery",
            "complete",
            "on_track",
            "behind",
            "received_total",
            "listed",
        )
    }
    eligible = counts["eligible"]
    if unmasked and items:
        ids = [str(i.subject_id) for i in items if i.subject_kind == "person"]
        mark_audit(
            response,
            record_type="intervention_target",
            record_ids=ids,
            subject_ids=ids,
            fields=["birth_date"],
            unmasked=True,
        )
    dose = entry.dose
    return TargetsRead(
        intervention=InterventionRef(
            code=entry.code,
            version=entry.version,
            name=entry.name,
            unit=entry.unit.value,
            dose_quantity=dose.quantity if dose else None,
            dose_per=dose.per.value if dose else None,
            dose_schedule=dose.schedule if dose else None,
            national_target_pct=entry.national_target_pct,
            sectors=[s.value for s in entry.sectors],
        ),
        period=PeriodRead(label=period.label, start=period.start, end=period.end, as_of=as_of),
        region=within or caller.region,
        lokus_year=lokus_year,
        evaluation=method,
        counts=TargetCounts(
            **counts,
            coverage_pct=round(100 * counts["complete"] / eligible, 1) if eligible else None,
            national_target_pct=entry.national_target_pct,
        ),
        by_village=[VillageCounts(**v) for v in villages] if by_village else None,
        items=items,
        next_cursor=encode_cursor([raw_items[-1]["village_code"], str(raw_items[-1]["id"])])
        if more
        else None,
        masked=not unmasked,
    )
