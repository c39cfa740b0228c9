"""The one permission matrix: named operations x roles, and system-client scopes.

Three checks decide a request, in this order:

1. ``allowed(role, operation, ...)``: may this kind of caller do this at all (here);
2. region scope (``gateway.authz.scope.in_scope``) on the record's village code;
3. for deliveries and referral transitions, ``sector_allows(identity, sector)``: a
   sector-bound caller acts only for its own sector.

``registry.person.read_pii`` lists the roles that MAY see personal data unmasked; the
caller additionally needs the ``pii`` right on its identity (see ``roles.py`` for the
defaults) and a stated purpose. Which families a TPK cadre is assigned to is data, not
a permission: the interventions service filters by assignment.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from common.identity import Identity, Role, Sector


class Operation(StrEnum):
    REGION_READ = "registry.region.read"
    SITE_READ = "registry.site.read"
    SITE_WRITE = "registry.site.write"
    LOKUS_WRITE = "registry.lokus.write"
    HOUSEHOLD_READ = "registry.household.read"
    HOUSEHOLD_WRITE = "registry.household.write"
    PERSON_READ = "registry.person.read"
    PERSON_WRITE = "registry.person.write"
    PERSON_READ_PII = "registry.person.read_pii"
    EVENT_WRITE = "registry.event.write"
    KRS_READ = "registry.krs.read"
    KRS_WRITE = "registry.krs.write"
    MEASUREMENT_READ = "registry.measurement.read"
    MEASUREMENT_WRITE = "registry.measurement.write"
    DUKCAPIL_IMPORT = "registry.dukcapil.import"
    DUPLICATE_MERGE = "registry.duplicate.merge"
    CATALOGUE_READ = "interventions.catalogue.read"
    CATALOGUE_WRITE = "interventions.catalogue.write"
    TARGET_READ = "interventions.target.read"
    DELIVERY_READ = "interventions.delivery.read"
    DELIVERY_WRITE = "interventions.delivery.write"
    REFERRAL_CREATE = "interventions.referral.create"
    REFERRAL_READ = "interventions.referral.read"
    REFERRAL_TRANSITION = "interventions.referral.transition"
    TPK_READ = "interventions.tpk.read"
    TPK_WRITE = "interventions.tpk.write"
    INDICATOR_READ = "reporting.indicator.read"
    DRILLDOWN_READ = "reporting.drilldown.read"
    REPORT_PUBLISH = "reporting.publish"
    REPORT_EXPORT = "reporting.export"
    AUDIT_READ = "audit.read"
    ADMIN_USERS = "admin.users"
    ADMIN_CLIENTS = "admin.clients"
    ADMIN_RULESETS = "admin.rulesets"
    EVENTS_READ = "events.read"
    WEBHOOKS_MANAGE = "webhooks.manage"
    FHIR_READ = "fhir.read"
    FHIR_WRITE = "fhir.write"
    EXPORT_BULK = "export.bulk"


@dataclass(frozen=True)
class SectorOnly:
    """Grants sector officers of one sector only."""

    sector: Sector


Grant = Role | SectorOnly

_A = Role.ADMIN
_RO = Role.REGENCY_OFFICER
_DO = Role.DISTRICT_OFFICER
_VO = Role.VILLAGE_OPERATOR
_TPK = Role.TPK_CADRE
_HW = Role.HEALTH_WORKER
_SO = Role.SECTOR_OFFICER
_AN = Role.ANALYST
_AU = Role.AUDITOR
# The roles that work with named families in the field or office.
_CASEWORK = (_A, _RO, _DO, _VO, _TPK, _HW, _SO)


def _grants(*grants: Grant | tuple[Role, ...]) -> frozenset[Grant]:
    flat: set[Grant] = set()
    for grant in grants:
        flat.update(grant if isinstance(grant, tuple) else (grant,))
    return frozenset(flat)


_Op = Operation
MATRIX: dict[Operation, frozenset[Grant]] = {
    _Op.REGION_READ: _grants(_CASEWORK, _AN),
    _Op.SITE_READ: _grants(_CASEWORK, _AN),
    _Op.SITE_WRITE: _grants(_A, _RO),
    _Op.LOKUS_WRITE: _grants(_A, _RO),
    _Op.HOUSEHOLD_READ: _grants(_CASEWORK),
    _Op.HOUSEHOLD_WRITE: _grants(_A, _DO, _VO),
    _Op.PERSON_READ: _grants(_CASEWORK),
    _Op.PERSON_WRITE: _grants(_A, _DO, _VO),
    _Op.PERSON_READ_PII: _grants(_CASEWORK),
    # Midwives report pregnancies and births.
    _Op.EVENT_WRITE: _grants(_A, _DO, _VO, _HW),
    _Op.KRS_READ: _grants(_CASEWORK),
    # TPK cadres run the twice-yearly KRS verification visits.
    _Op.KRS_WRITE: _grants(_A, _DO, _VO, _TPK),
    _Op.MEASUREMENT_READ: _grants(_A, _RO, _DO, _VO, _TPK, _HW, SectorOnly(Sector.HEALTH)),
    _Op.MEASUREMENT_WRITE: _grants(_A, _HW),
    _Op.DUKCAPIL_IMPORT: _grants(_A, SectorOnly(Sector.CIVIL_REGISTRY)),
    _Op.DUPLICATE_MERGE: _grants(_A, _DO),
    _Op.CATALOGUE_READ: _grants(_CASEWORK, _AN),
    _Op.CATALOGUE_WRITE: _grants(_A),
    _Op.TARGET_READ: _grants(_CASEWORK),
    _Op.DELIVERY_READ: _grants(_CASEWORK),
    _Op.DELIVERY_WRITE: _grants(_A, _HW, _SO),
    _Op.REFERRAL_CREATE: _grants(_A, _DO, _VO, _TPK, _HW, _SO),
    _Op.REFERRAL_READ: _grants(_CASEWORK),
    _Op.REFERRAL_TRANSITION: _grants(_A, _DO, _HW, _SO),
    _Op.TPK_READ: _grants(_A, _RO, _DO, _VO, _TPK, _HW, SectorOnly(Sector.FAMILY_PLANNING)),
    # Family-planning agencies (DPPKB) run the TPK teams.
    _Op.TPK_WRITE: _grants(_A, _TPK, SectorOnly(Sector.FAMILY_PLANNING)),
    _Op.INDICATOR_READ: _grants(_CASEWORK, _AN),
    _Op.DRILLDOWN_READ: _grants(_A, _RO, _DO, _VO, _TPK, _HW),
    _Op.REPORT_PUBLISH: _grants(_A, _RO),
    _Op.REPORT_EXPORT: _grants(_A, _RO, _DO, _SO, _AN),
    _Op.AUDIT_READ: _grants(_A, _AU),
    _Op.ADMIN_USERS: _grants(_A),
    _Op.ADMIN_CLIENTS: _grants(_A),
    _Op.ADMIN_RULESETS: _grants(_A),
    _Op.EVENTS_READ: _grants(_A),
    _Op.WEBHOOKS_MANAGE: _grants(_A),
    _Op.FHIR_READ: _grants(_A),
    _Op.FHIR_WRITE: _grants(_A),
    _Op.EXPORT_BULK: _grants(_A),
}


@dataclass(frozen=True)
class SystemScope:
    name: str
    label: dict[str, str]
    operations: frozenset[Operation]


SYSTEM_SCOPES: dict[str, SystemScope] = {
    s.name: s
    for s in (
        SystemScope(
            "registry:read",
            {"id": "Baca data registrasi (tersamar)", "en": "Read registry data (masked)"},
            frozenset(
                {_Op.REGION_READ, _Op.SITE_READ, _Op.HOUSEHOLD_READ, _Op.PERSON_READ, _Op.KRS_READ}
            ),
        ),
        SystemScope(
            "registry:write",
            {"id": "Ubah data registrasi", "en": "Write registry data"},
            frozenset({_Op.HOUSEHOLD_WRITE, _Op.PERSON_WRITE, _Op.EVENT_WRITE}),
        ),
        SystemScope(
            "growth:read",
            {"id": "Baca pengukuran pertumbuhan", "en": "Read growth measurements"},
            frozenset({_Op.REGION_READ, _Op.MEASUREMENT_READ}),
        ),
        SystemScope(
            "growth:write",
            {"id": "Kirim pengukuran pertumbuhan", "en": "Submit growth measurements"},
            frozenset({_Op.MEASUREMENT_WRITE}),
        ),
        SystemScope(
            "pii:read",
            {"id": "Baca data pribadi tanpa samaran", "en": "Read unmasked personal data"},
            frozenset({_Op.PERSON_READ_PII}),
        ),
        SystemScope(
            "interventions:read",
            {"id": "Baca intervensi dan rujukan", "en": "Read interventions and referrals"},
            frozenset(
                {
                    _Op.REGION_READ,
                    _Op.CATALOGUE_READ,
                    _Op.TARGET_READ,
                    _Op.DELIVERY_READ,
                    _Op.REFERRAL_READ,
                    _Op.TPK_READ,
                }
            ),
        ),
        SystemScope(
            "interventions:write",
            {"id": "Catat intervensi dan rujukan", "en": "Record interventions and referrals"},
            frozenset({_Op.DELIVERY_WRITE, _Op.REFERRAL_CREATE, _Op.REFERRAL_TRANSITION}),
        ),
        SystemScope(
            "reporting:read",
            {"id": "Baca indikator agregat", "en": "Read aggregate indicators"},
            frozenset({_Op.REGION_READ, _Op.SITE_READ, _Op.INDICATOR_READ, _Op.REPORT_EXPORT}),
        ),
        SystemScope(
            "dukcapil:import",
            {"id": "Impor data Dukcapil", "en": "Import civil-registry data"},
            frozenset({_Op.DUKCAPIL_IMPORT}),
        ),
        SystemScope(
            "events:read",
            {"id": "Baca aliran perubahan", "en": "Read change events"},
            frozenset({_Op.EVENTS_READ}),
        ),
        SystemScope(
            "webhooks",
            {"id": "Kelola langganan webhook", "en": "Manage webhook subscriptions"},
            frozenset({_Op.WEBHOOKS_MANAGE}),
        ),
        SystemScope(
            "fhir:read",
            {"id": "Baca sumber daya FHIR", "en": "Read FHIR resources"},
            frozenset({_Op.FHIR_READ}),
        ),
        SystemScope(
            "fhir:write",
            {"id": "Kirim sumber daya FHIR", "en": "Write FHIR resources"},
            frozenset({_Op.FHIR_WRITE}),
        ),
        SystemScope(
            "export:bulk",
            {"id": "Ekspor data massal", "en": "Bulk data export"},
            frozenset({_Op.EXPORT_BULK}),
        ),
    )
}

# Roles whose sector is implied by the role itself.
_IMPLIED_SECTOR: dict[Role, Sector] = {Role.HEALTH_WORKER: Sector.HEALTH}


class PermissionDenied(Exception):
    code = "forbidden"
    status = 403
    message = {
        "id": "Anda tidak berwenang melakukan tindakan ini.",
        "en": "You are not allowed to do this.",
    }


def allowed(
    role: Role | str,
    operation: Operation | str,
    *,
    sector: Sector | str | None = None,
    scopes: Iterable[str] = (),
) -> bool:
    """May a caller of ``role`` perform ``operation``?

    A system client is judged by its scopes alone; a sector officer without a sector
    gets nothing. An unknown operation name raises ``ValueError``.
    """
    op = Operation(operation)
    role = Role(role)
    if role is Role.SYSTEM:
        return any(op in SYSTEM_SCOPES[s].operations for s in scopes if s in SYSTEM_SCOPES)
    grants = MATRIX[op]
    if role is Role.SECTOR_OFFICER:
        if sector is None:
            return False
        return role in grants or SectorOnly(Sector(sector)) in grants
    return role in grants


def identity_allowed(identity: Identity, operation: Operation | str) -> bool:
    return allowed(identity.role, operation, sector=identity.sector, scopes=identity.scopes)


def require(identity: Identity, operation: Operation | str) -> None:
    if not identity_allowed(identity, operation):
        raise PermissionDenied(f"{identity.role} may not {operation}")


def operations_for(
    role: Role | str, *, sector: Sector | str | None = None, scopes: Iterable[str] = ()
) -> tuple[Operation, ...]:
    """Every operation the caller may perform, in matrix order (e.g. for ``/v1/me``)."""
    scopes = tuple(scopes)
    return tuple(op for op in Operation if allowed(role, op, sector=sector, scopes=scopes))


def sector_allows(identity: Identity, sector: Sector | str) -> bool:
    """May this caller act (deliver, accept or close a referral) for ``sector``?

    Callers bound to a sector (a sector officer, a sector-bound system client, a health
    worker) act for that sector only; unbound callers (admin, district officer) are not
    limited by sector, the matrix alone decides for them.
    """
    bound = identity.sector or _IMPLIED_SECTOR.get(identity.role)
    return bound is None or bound == Sector(sector)


def render_matrix_markdown() -> str:
    """The matrix as a Markdown table: one row per operation, one column per role.

    ``✓`` grants the role; a sector name grants sector officers of that sector only;
    the last column lists the system-client scopes that grant the operation.
    """
    roles = [r for r in Role if r not in (Role.SYSTEM, Role.SERVICE)]
    header = ["operation", *(r.value for r in roles), "system scopes"]
    lines = [_row(header), _row(["---"] * len(header))]
    for op in Operation:
        grants = MATRIX[op]
        cells = [f"`{op.value}`"]
        for role in roles:
            limited = sorted(
                g.sector.value
                for g in grants
                if isinstance(g, SectorOnly) and role is Role.SECTOR_OFFICER
            )
            cells.append("✓" if role in grants else ", ".join(limited))
        scopes = sorted(s.name for s in SYSTEM_SCOPES.values() if op in s.operations)
        cells.append(", ".join(f"`{s}`" for s in scopes))
        lines.append(_row(cells))
    return "\n".join(lines) + "\n"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


PERMISSIONS_HEADING = "## Roles and permissions"
_PERMISSIONS_INTRO = """\
Every request passes three checks, in this order (`common/permissions.py` holds the
matrix; the gateway checks it before forwarding and each service checks it again):

1. **Function**: may this role (or, for a system client, one of its scopes) perform the
   route's operation? Each route names its operation (`x-kkb-operation` in
   `/openapi.json`); no → 403 `forbidden`.
2. **Region**: every personal record carries its village code; a caller sees records
   within its region scope only. Another region's record answers 404, never 403;
   writing into a region outside the scope is 403 `region_out_of_scope`.
3. **Sector**: a sector officer (or a sector-bound client) records deliveries and
   handles referrals for its own sector only.

Personal data is shown unmasked only to a caller whose role may read it **and** who holds
the personal-data right **and** states a purpose (`X-KKB-Purpose`); every such read is
audited. Analysts and auditors never hold the right. Admins grant roles, regions and
rights only within their own region, and nobody changes their own.

`✓` grants the role; a sector name grants sector officers of that sector only; the last
column lists the system-client scopes that grant the operation. Generated by
`common.permissions.render_permissions_section()`; a test keeps it equal to the code.
"""


def render_permissions_section() -> str:
    """The README section "Roles and permissions": the three checks and the matrix."""
    return f"{PERMISSIONS_HEADING}\n\n{_PERMISSIONS_INTRO}\n{render_matrix_markdown()}"
