"""The README's "Roles and permissions" section is the matrix in the code, not a copy
that drifts from it."""

from common.permissions import (
    MATRIX,
    PERMISSIONS_HEADING,
    Operation,
    render_permissions_section,
)
from common.reference_data import REPO_ROOT


def readme_section() -> str:
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(PERMISSIONS_HEADING + "\n")
    end = text.find("\n## ", start + len(PERMISSIONS_HEADING))
    return text[start : end if end != -1 else len(text)]


def test_readme_section_equals_the_rendered_matrix() -> None:
    assert readme_section() == render_permissions_section()


def test_the_table_has_a_row_per_operation_and_a_column_per_role() -> None:
    rows = [line for line in readme_section().splitlines() if line.startswith("| `")]
    assert [r.split("|")[1].strip().strip("`") for r in rows] == [o.value for o in Operation]
    assert len(rows) == len(MATRIX)
    header = next(line for line in readme_section().splitlines() if line.startswith("| operation"))
    assert [c.strip() for c in header.strip("|").split("|")] == [
        "operation",
        "admin",
        "regency_officer",
        "district_officer",
        "village_operator",
        "tpk_cadre",
        "health_worker",
        "sector_officer",
        "analyst",
        "auditor",
        "system scopes",
    ]


def test_spot_checks_against_domain_roles() -> None:
    """DOMAIN.md "Roles": auditors read the audit log only; analysts see no persons."""
    rows = {
        line.split("|")[1].strip().strip("`"): [c.strip() for c in line.split("|")[2:-1]]
        for line in readme_section().splitlines()
        if line.startswith("| `")
    }
    auditor, analyst, sector = 8, 7, 6
    assert [op for op, cells in rows.items() if cells[auditor] == "✓"] == ["audit.read"]
    assert rows["registry.person.read"][analyst] == ""
    assert rows["registry.measurement.read"][sector] == "health"
    assert rows["admin.users"][:9] == ["✓"] + [""] * 8
