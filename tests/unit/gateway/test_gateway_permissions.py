"""The permission matrix, system scopes, sector limits and role profiles."""

import pytest

from common.identity import Identity, Role, Sector
from common.permissions import (
    MATRIX,
    SYSTEM_SCOPES,
    Operation,
    PermissionDenied,
    allowed,
    operations_for,
    render_matrix_markdown,
    require,
    sector_allows,
)
from gateway.authz.roles import (
    GRANTABLE_ROLES,
    ROLE_PROFILES,
    SECTOR_LABELS,
    default_lang,
    default_pii,
    grant_problems,
)


def test_every_operation_is_in_the_matrix() -> None:
    assert set(MATRIX) == set(Operation)
    scoped = {op for s in SYSTEM_SCOPES.values() for op in s.operations}
    assert scoped <= set(Operation)


def test_tpk_cadre_cannot_administer() -> None:
    for op in ("admin.users", "admin.clients", "admin.rulesets", "audit.read"):
        assert not allowed("tpk_cadre", op)
    assert allowed("tpk_cadre", "interventions.tpk.write")
    assert allowed("tpk_cadre", "interventions.referral.create")


def test_analyst_sees_aggregates_only() -> None:
    assert not allowed("analyst", "registry.person.read_pii")
    assert not allowed("analyst", "registry.person.read")
    assert not allowed("analyst", "reporting.drilldown.read")
    assert allowed("analyst", "reporting.indicator.read")
    assert allowed("analyst", "reporting.export")


def test_auditor_reads_the_audit_log_only() -> None:
    assert operations_for("auditor") == (Operation.AUDIT_READ,)


def test_only_admin_manages_users_and_clients() -> None:
    for op in (Operation.ADMIN_USERS, Operation.ADMIN_CLIENTS):
        assert MATRIX[op] == frozenset({Role.ADMIN})


def test_sector_officer_needs_a_sector_and_some_rows_are_sector_limited() -> None:
    assert operations_for("sector_officer") == ()
    assert allowed("sector_officer", "interventions.delivery.write", sector="public_works")
    assert allowed("sector_officer", "registry.measurement.read", sector="health")
    assert not allowed("sector_officer", "registry.measurement.read", sector="public_works")
    assert allowed("sector_officer", "registry.dukcapil.import", sector="civil_registry")
    assert not allowed("sector_officer", "registry.dukcapil.import", sector="social_affairs")
    assert allowed("sector_officer", "interventions.tpk.write", sector="family_planning")
    assert not allowed("sector_officer", "interventions.tpk.write", sector="education")


def test_system_clients_are_judged_by_scopes() -> None:
    # Scenario 8: the provincial health office's system, without personal data.
    scopes = ("growth:read", "events:read", "webhooks", "fhir:read")
    assert allowed("system", "registry.measurement.read", scopes=scopes)
    assert allowed("system", "fhir.read", scopes=scopes)
    assert allowed("system", "webhooks.manage", scopes=scopes)
    assert not allowed("system", "registry.person.read_pii", scopes=scopes)
    assert not allowed("system", "fhir.write", scopes=scopes)
    assert allowed("system", "registry.person.read_pii", scopes=("pii:read",))
    assert not allowed("system", "registry.measurement.read")
    assert not allowed("system", "registry.measurement.read", scopes=("growth:*", "admin"))
    for op in ("admin.users", "admin.clients", "audit.read", "registry.duplicate.merge"):
        assert not allowed("system", op, scopes=tuple(SYSTEM_SCOPES))


def test_service_role_has_no_matrix_rights() -> None:
    assert operations_for("service", scopes=tuple(SYSTEM_SCOPES)) == ()


def test_unknown_names_raise() -> None:
    with pytest.raises(ValueError):
        allowed("admin", "registry.everything")
    with pytest.raises(ValueError):
        allowed("root", "audit.read")


def _identity(role: str, sector: str | None = None) -> Identity:
    region = "61.04" if role not in ("village_operator", "tpk_cadre") else "61.04.16.2007"
    return Identity(sub="u", role=role, region=region, sector=sector, request_id="r")


def test_sector_allows() -> None:
    works = _identity("sector_officer", "public_works")
    assert sector_allows(works, "public_works")
    assert not sector_allows(works, Sector.SOCIAL_AFFAIRS)
    assert sector_allows(_identity("health_worker"), "health")
    assert not sector_allows(_identity("health_worker"), "public_works")
    assert sector_allows(_identity("admin"), "fisheries")
    assert sector_allows(_identity("district_officer"), "social_affairs")


def test_require() -> None:
    require(_identity("village_operator"), "registry.household.write")
    with pytest.raises(PermissionDenied) as denied:
        require(_identity("village_operator"), "admin.users")
    assert denied.value.status == 403
    assert denied.value.message["id"] and denied.value.message["en"]


def test_markdown_table() -> None:
    table = render_matrix_markdown()
    assert table == render_matrix_markdown()
    lines = table.splitlines()
    assert len(lines) == 2 + len(Operation)
    assert lines[0] == (
        "| operation | admin | regency_officer | district_officer | village_operator "
        "| tpk_cadre | health_worker | sector_officer | analyst | auditor | system scopes |"
    )
    assert "| `audit.read` | ✓ |  |  |  |  |  |  |  | ✓ |  |" in lines
    assert (
        "| `registry.dukcapil.import` | ✓ |  |  |  |  |  | civil_registry |  |  "
        "| `dukcapil:import` |" in lines
    )
    assert "| `registry.person.read_pii` | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |  |  | `pii:read` |" in lines


# --- role profiles ---------------------------------------------------------------------


def test_pii_defaults() -> None:
    with_right = {"admin", "regency_officer", "district_officer", "village_operator"}
    with_right |= {"tpk_cadre", "health_worker"}
    for role in GRANTABLE_ROLES:
        assert default_pii(role) is (role.value in with_right), role
    assert not ROLE_PROFILES[Role.ANALYST].pii_grantable
    assert not ROLE_PROFILES[Role.AUDITOR].pii_grantable
    assert ROLE_PROFILES[Role.SECTOR_OFFICER].pii_grantable


def test_village_facing_roles_default_to_indonesian() -> None:
    for role in (Role.VILLAGE_OPERATOR, Role.TPK_CADRE, Role.HEALTH_WORKER):
        assert default_lang(role) == "id"
    assert Role.SERVICE not in GRANTABLE_ROLES


def test_every_sector_has_labels() -> None:
    assert set(SECTOR_LABELS) == set(Sector)
    assert all(label["id"] and label["en"] for label in SECTOR_LABELS.values())


@pytest.mark.parametrize(
    ("role", "region", "sector", "pii", "codes"),
    [
        (Role.ADMIN, "", None, True, []),
        (Role.VILLAGE_OPERATOR, "61.04.16.2007", None, True, []),
        (Role.VILLAGE_OPERATOR, "61.04.16", None, True, []),
        (Role.VILLAGE_OPERATOR, "61.04", None, True, ["region_scope_too_wide"]),
        (Role.DISTRICT_OFFICER, "61", None, False, ["region_scope_too_wide"]),
        (Role.ANALYST, "61", None, True, ["pii_not_grantable"]),
        (Role.AUDITOR, "", None, False, []),
        (Role.SECTOR_OFFICER, "61.04", None, False, ["sector_required"]),
        (Role.SECTOR_OFFICER, "61.04", Sector.HEALTH, True, []),
        (Role.HEALTH_WORKER, "61.04.16", Sector.HEALTH, True, ["sector_not_allowed"]),
        (Role.SYSTEM, "61", Sector.HEALTH, False, []),
        (Role.ADMIN, "61.0", None, False, ["region_scope_invalid"]),
        (Role.SERVICE, "", None, False, ["role_not_grantable"]),
    ],
)
def test_grant_problems(
    role: Role, region: str, sector: Sector | None, pii: bool, codes: list[str]
) -> None:
    assert [p.code for p in grant_problems(role, region, sector=sector, pii=pii)] == codes
