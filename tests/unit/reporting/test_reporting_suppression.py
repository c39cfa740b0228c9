"""Small-cell suppression: hand-worked cases, then properties over random hierarchies.

The attacker model is checked independently of the module: every published parent
equals the sum of its children (a parent missing from the table is assumed published
elsewhere), and a withheld cell is recoverable exactly when its unit vector lies in
the row space of those equations restricted to the withheld cells (linear algebra
over everything the attacker can add and subtract).
"""

import random

import numpy as np
import pytest

from services.reporting.suppression import (
    Cell,
    ProtectedCell,
    SuppressionReason,
    suppress,
)

P, C = SuppressionReason.PRIMARY, SuppressionReason.COMPLEMENTARY


def reasons(result: list[ProtectedCell]) -> dict[str, SuppressionReason]:
    return {c.region_code: c.suppression for c in result if c.suppression is not None}


def recoverable(cells: list[Cell], result: list[ProtectedCell]) -> set[str]:
    """Withheld cells an attacker can compute from the published ones."""
    withheld = [c.region_code for c in result if c.suppressed]
    if not withheld:
        return set()
    column = {code: i for i, code in enumerate(withheld)}
    present = {c.region_code for c in cells}
    groups: dict[str | None, list[str]] = {}
    for cell in cells:
        groups.setdefault(cell.parent_code, []).append(cell.region_code)
    equations = []
    for parent, children in groups.items():
        row = np.zeros(len(withheld))
        if parent in present and parent in column:
            row[column[parent]] = 1.0
        for child in children:
            if child in column:
                row[column[child]] -= 1.0
        if row.any():
            equations.append(row)
    if not equations:
        return set()
    system = np.array(equations)
    rank = np.linalg.matrix_rank(system)
    found = set()
    for code, i in column.items():
        probe = np.zeros(len(withheld))
        probe[i] = 1.0
        if np.linalg.matrix_rank(np.vstack([system, probe])) == rank:
            found.add(code)
    return found


def peel(cells: list[Cell], result: list[ProtectedCell]) -> set[str]:
    """The plain attack: solve any parent = sum(children) with one unknown, and repeat.

    A parent missing from the table counts as published elsewhere."""
    present = {c.region_code for c in cells}
    unknown = {r.region_code for r in result if r.suppressed}
    groups: dict[str | None, list[str]] = {}
    for cell in cells:
        groups.setdefault(cell.parent_code, []).append(cell.region_code)
    solved: set[str] = set()
    progress = True
    while progress:
        progress = False
        for parent, children in groups.items():
            members = [*children, *([parent] if parent in present else [])]
            open_ = [c for c in members if c in unknown and c not in solved]
            if len(open_) == 1:
                solved.add(open_[0])
                progress = True
    return solved


def regency() -> list[Cell]:
    # R = D1 + D2 + D3; D1 = v1..v4 (4 12 15 30), D2 = w1 w2 (20 25), D3 = u1 (6).
    return [
        Cell("R", "61", 30, 112),
        Cell("D1", "R", 16, 61),
        Cell("D2", "R", 11, 45),
        Cell("D3", "R", 3, 6, value=50.0),
        Cell("v1", "D1", 2, 4),
        Cell("v2", "D1", 3, 12),
        Cell("v3", "D1", 4, 15),
        Cell("v4", "D1", 7, 30),
        Cell("w1", "D2", 5, 20),
        Cell("w2", "D2", 6, 25),
        Cell("u1", "D3", 3, 6, value=50.0),
    ]


def test_hand_worked_regency() -> None:
    cells = regency()
    result = suppress(cells)
    # primary: v1 (4), D3 (6), u1 (6).
    # D1's children hold only v1 → v2 (12, the smallest published) joins it.
    # R's children hold only D3 → D2 (45 < 61) joins it.
    # D2 is now withheld while w1, w2 are published (D2 = w1 + w2) → w1, then w2.
    assert reasons(result) == {"v1": P, "D3": P, "u1": P, "v2": C, "D2": C, "w1": C, "w2": C}
    assert recoverable(cells, result) == set()
    assert peel(cells, result) == set()


def test_withheld_cells_lose_every_figure_and_order_is_kept() -> None:
    cells = regency()
    result = suppress(cells)
    assert [r.region_code for r in result] == [c.region_code for c in cells]
    u1 = result[-1]
    assert (u1.numerator, u1.denominator, u1.value, u1.suppressed) == (None, None, None, True)
    r = result[0]
    assert (r.numerator, r.denominator, r.suppressed) == (30, 112, False)


def test_without_complementary_suppression_subtraction_would_recover_the_cell() -> None:
    # The attack the complement prevents: D1 − (v2 + v3 + v4) = v1.
    cells = regency()
    only_primary = [
        ProtectedCell(c.region_code, c.parent_code, None, None, None, P)
        if 0 < c.denominator < 10
        else ProtectedCell(c.region_code, c.parent_code, c.numerator, c.denominator, c.value, None)
        for c in cells
    ]
    assert "v1" in recoverable(cells, only_primary)
    assert "v1" in peel(cells, only_primary)


def test_only_child_withholds_its_parent() -> None:
    # Only the lokus village z1 of district D is listed: D − z1 would still be "the rest",
    # but with z1 as D's only listed child the parent's figure stands in for it.
    cells = [
        Cell("D", "R", 10, 50),
        Cell("E", "R", 10, 40),
        Cell("F", "R", 10, 70),
        Cell("z1", "D", 2, 5),
    ]
    result = suppress(cells)
    assert reasons(result) == {"z1": P, "D": C, "E": C}
    assert recoverable(cells, result) == set()


def test_nothing_small_nothing_withheld() -> None:
    cells = [Cell("R", None, 5, 40), Cell("a", "R", 2, 20), Cell("b", "R", 3, 20)]
    assert all(not r.suppressed for r in suppress(cells))


def test_empty_cells_are_not_withheld_for_their_own_sake_and_are_the_last_choice() -> None:
    cells = [
        Cell("R", None, 9, 60),
        Cell("a", "R", 1, 3),
        Cell("b", "R", 0, 0),
        Cell("c", "R", 3, 27),
        Cell("d", "R", 5, 30),
    ]
    assert reasons(suppress(cells)) == {"a": P, "c": C}


def test_threshold_is_configurable() -> None:
    cells = [
        Cell("R", None, 9, 60),
        Cell("a", "R", 1, 7),
        Cell("b", "R", 3, 23),
        Cell("c", "R", 5, 30),
    ]
    assert reasons(suppress(cells, min_denominator=5)) == {}
    assert reasons(suppress(cells, min_denominator=10)) == {"a": P, "b": C}
    assert reasons(suppress(cells, min_denominator=25)) == {"a": P, "b": P}


def test_ties_between_siblings_go_to_the_lower_code() -> None:
    cells = [
        Cell("R", None, 9, 47),
        Cell("a", "R", 1, 7),
        Cell("c", "R", 3, 20),
        Cell("b", "R", 5, 20),
    ]
    assert reasons(suppress(cells)) == {"a": P, "b": C}


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="twice"):
        suppress([Cell("a", None, 1, 20), Cell("a", None, 1, 20)])
    with pytest.raises(ValueError, match="own parent"):
        suppress([Cell("a", "a", 1, 20)])


def random_hierarchy(rng: random.Random, with_root: bool) -> list[Cell]:
    cells: list[Cell] = []

    def village_size() -> int:
        roll = rng.random()
        return 0 if roll < 0.05 else rng.randint(1, 9) if roll < 0.4 else rng.randint(10, 80)

    def add(code: str, parent: str | None, children: list[tuple[int, int]]) -> tuple[int, int]:
        numerator = sum(n for n, _ in children)
        denominator = sum(d for _, d in children)
        cells.append(Cell(code, parent, numerator, denominator))
        return numerator, denominator

    regencies = []
    for r in range(rng.randint(2, 4)):
        regency_code = f"61.{r + 1:02d}"
        districts = []
        for d in range(rng.randint(1, 4)):
            district_code = f"{regency_code}.{d + 1:02d}"
            villages = []
            for v in range(rng.randint(1, 6)):
                size = village_size()
                numerator = rng.randint(0, size)
                cells.append(Cell(f"{district_code}.{2001 + v}", district_code, numerator, size))
                villages.append((numerator, size))
            districts.append(add(district_code, regency_code, villages))
        regencies.append(add(regency_code, "61", districts))
    if with_root:
        add("61", None, regencies)
    return cells


@pytest.mark.parametrize("seed", range(300))
def test_no_withheld_cell_can_be_recovered(seed: int) -> None:
    rng = random.Random(seed)
    cells = random_hierarchy(rng, with_root=seed % 3 != 0)
    if any(c.parent_code is None and 0 < c.denominator < 10 for c in cells):
        pytest.skip("a tiny province total has nothing to hide behind")
    result = suppress(cells)
    for cell, protected in zip(cells, result, strict=True):
        if 0 < cell.denominator < 10:
            assert protected.suppression is P
        if not protected.suppressed:
            assert (protected.numerator, protected.denominator) == (
                cell.numerator,
                cell.denominator,
            )
    assert recoverable(cells, result) == set()
    assert peel(cells, result) == set()
    # Every group with a withheld member has at least two of them.
    groups: dict[str | None, list[ProtectedCell]] = {}
    for protected in result:
        groups.setdefault(protected.parent_code, []).append(protected)
    for members in groups.values():
        assert sum(m.suppressed for m in members) != 1 or len(members) == 1
