"""The project's roles (DOMAIN.md "Roles") and what each is by default.

Decisions recorded here:

* ``sector_officer`` has NO personal-data right by default. Deliveries and referrals
  are recorded against record ids, and the target lists an agency works from show
  masked identifiers. An admin may grant the right to one officer who must match people
  by NIK (e.g. a social-affairs officer checking DTSEN enrolment); each unmasked read
  then needs a stated purpose and is audited. Health-sector field staff use the
  ``health_worker`` role, which has the right.
* ``analyst`` and ``auditor`` can never hold the right: analysts see aggregates only,
  auditors see the audit log, not the records it points to.
* A ``system`` client holds the right only through the ``pii:read`` scope.
* Human roles default to Indonesian; system clients to English, since their readers
  are integration developers and log parsers. ``Accept-Language`` overrides both.
"""

from dataclasses import dataclass

from common.identity import Role, Sector
from gateway.authz.scope import RegionLevel, is_valid_scope, level_of


@dataclass(frozen=True)
class RoleProfile:
    role: Role
    label: dict[str, str]
    # The level a user of this role is normally scoped at, and the broadest allowed.
    normal_level: RegionLevel
    widest_level: RegionLevel
    pii_default: bool
    pii_grantable: bool
    lang: str
    needs_sector: bool = False


_N, _P, _R, _D, _V = (
    RegionLevel.NATIONAL,
    RegionLevel.PROVINCE,
    RegionLevel.REGENCY,
    RegionLevel.DISTRICT,
    RegionLevel.VILLAGE,
)

ROLE_PROFILES: dict[Role, RoleProfile] = {
    p.role: p
    for p in (
        RoleProfile(
            Role.ADMIN,
            {"id": "Administrator", "en": "Administrator"},
            normal_level=_R,
            widest_level=_N,
            pii_default=True,
            pii_grantable=True,
            lang="id",
        ),
        RoleProfile(
            Role.REGENCY_OFFICER,
            {"id": "Petugas kabupaten", "en": "Regency officer"},
            normal_level=_R,
            widest_level=_R,
            pii_default=True,
            pii_grantable=True,
            lang="id",
        ),
        RoleProfile(
            Role.DISTRICT_OFFICER,
            {"id": "Petugas kecamatan", "en": "District officer"},
            normal_level=_D,
            widest_level=_D,
            pii_default=True,
            pii_grantable=True,
            lang="id",
        ),
        # Widest is the district so one operator can serve several villages of it.
        RoleProfile(
            Role.VILLAGE_OPERATOR,
            {"id": "Operator desa", "en": "Village operator"},
            normal_level=_V,
            widest_level=_D,
            pii_default=True,
            pii_grantable=True,
            lang="id",
        ),
        RoleProfile(
            Role.TPK_CADRE,
            {"id": "Kader Tim Pendamping Keluarga", "en": "Family-assistance (TPK) cadre"},
            normal_level=_V,
            widest_level=_D,
            pii_default=True,
            pii_grantable=True,
            lang="id",
        ),
        # A puskesmas serves a district; Dinas Kesehatan staff may hold the regency.
        RoleProfile(
            Role.HEALTH_WORKER,
            {"id": "Tenaga kesehatan", "en": "Health worker"},
            normal_level=_D,
            widest_level=_R,
            pii_default=True,
            pii_grantable=True,
            lang="id",
        ),
        # Agencies (OPD) work regency-wide; provincial agencies exist too.
        RoleProfile(
            Role.SECTOR_OFFICER,
            {"id": "Petugas sektor (OPD)", "en": "Sector officer (agency)"},
            normal_level=_R,
            widest_level=_P,
            pii_default=False,
            pii_grantable=True,
            lang="id",
            needs_sector=True,
        ),
        RoleProfile(
            Role.ANALYST,
            {"id": "Analis", "en": "Analyst"},
            normal_level=_P,
            widest_level=_N,
            pii_default=False,
            pii_grantable=False,
            lang="id",
        ),
        RoleProfile(
            Role.AUDITOR,
            {"id": "Auditor", "en": "Auditor"},
            normal_level=_R,
            widest_level=_N,
            pii_default=False,
            pii_grantable=False,
            lang="id",
        ),
        RoleProfile(
            Role.SYSTEM,
            {"id": "Klien sistem", "en": "System client"},
            normal_level=_P,
            widest_level=_N,
            pii_default=False,
            pii_grantable=True,
            lang="en",
        ),
    )
}

# Roles a user or API client can be given (``service`` is internal only).
GRANTABLE_ROLES: tuple[Role, ...] = tuple(ROLE_PROFILES)

SECTOR_LABELS: dict[Sector, dict[str, str]] = {
    Sector.HEALTH: {"id": "Kesehatan", "en": "Health"},
    Sector.SOCIAL_AFFAIRS: {"id": "Sosial", "en": "Social affairs"},
    Sector.PUBLIC_WORKS: {
        "id": "Pekerjaan umum dan perumahan",
        "en": "Public works and housing",
    },
    Sector.FAMILY_PLANNING: {
        "id": "Pengendalian penduduk dan keluarga berencana",
        "en": "Population and family planning",
    },
    Sector.CIVIL_REGISTRY: {
        "id": "Kependudukan dan pencatatan sipil",
        "en": "Civil registry",
    },
    Sector.RELIGIOUS_AFFAIRS: {"id": "Agama (KUA)", "en": "Religious affairs (KUA)"},
    Sector.FOOD_SECURITY: {"id": "Ketahanan pangan", "en": "Food security"},
    Sector.EDUCATION: {"id": "Pendidikan", "en": "Education"},
    Sector.AGRICULTURE: {"id": "Pertanian", "en": "Agriculture"},
    Sector.FISHERIES: {"id": "Perikanan", "en": "Fisheries"},
}


@dataclass(frozen=True)
class GrantProblem:
    code: str
    message: dict[str, str]


def profile(role: Role) -> RoleProfile:
    try:
        return ROLE_PROFILES[role]
    except KeyError:
        raise ValueError(f"role {role!r} cannot be granted") from None


def default_pii(role: Role) -> bool:
    return profile(role).pii_default


def default_lang(role: Role) -> str:
    return profile(role).lang


def grant_problems(
    role: Role, region: str, *, sector: Sector | None = None, pii: bool = False
) -> list[GrantProblem]:
    """Why a user or client may not hold this role/region/sector/pii combination.

    Empty list means the grant is consistent. Whether the granter may hand out this
    region is a separate check (``scope.can_assign``).
    """
    if role not in ROLE_PROFILES:
        return [
            _problem(
                "role_not_grantable",
                "Peran ini tidak dapat diberikan.",
                "This role cannot be granted.",
            )
        ]
    spec = ROLE_PROFILES[role]
    problems: list[GrantProblem] = []
    if not is_valid_scope(region):
        problems.append(
            _problem(
                "region_scope_invalid",
                "Kode wilayah tidak sah.",
                "The region code is invalid.",
            )
        )
    elif level_of(region) < spec.widest_level:
        problems.append(
            _problem(
                "region_scope_too_wide",
                f"Wilayah terlalu luas untuk peran ini (paling luas: {spec.widest_level.label}).",
                f"Region too wide for this role (widest allowed: {spec.widest_level.label}).",
            )
        )
    if spec.needs_sector and sector is None:
        problems.append(
            _problem(
                "sector_required",
                "Petugas sektor wajib memiliki sektor.",
                "A sector officer needs a sector.",
            )
        )
    if sector is not None and role not in (Role.SECTOR_OFFICER, Role.SYSTEM):
        problems.append(
            _problem(
                "sector_not_allowed",
                "Peran ini tidak terikat pada sektor.",
                "This role is not bound to a sector.",
            )
        )
    if pii and not spec.pii_grantable:
        problems.append(
            _problem(
                "pii_not_grantable",
                "Peran ini tidak boleh melihat data pribadi.",
                "This role may not see personal data.",
            )
        )
    return problems


def _problem(code: str, id_text: str, en_text: str) -> GrantProblem:
    return GrantProblem(code, {"id": id_text, "en": en_text})
