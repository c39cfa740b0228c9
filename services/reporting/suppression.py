"""Small-cell protection for callers without personal-data rights (analysts, dashboards).

A figure over fewer than ``min_denominator`` people can point at a family, so it is
withheld (primary suppression). Withholding it alone is not enough: along the region
hierarchy (province > regency > district > village) a parent equals the sum of its
children, so a lone withheld child is the parent minus its published siblings.
Complementary suppression closes those routes, repeated until nothing changes:

1. a sibling group (cells with the same ``parent_code``) holding exactly one withheld
   cell also loses its smallest published sibling; a lone child loses its parent;
2. a withheld cell whose children are all published (it would be their sum) loses its
   smallest child, which rule 1 then pairs with a second one.

At the fixed point every withheld cell has a withheld sibling (or a withheld parent, if
it is an only child) and every withheld parent has a withheld child, which leaves each
withheld cell free to move without changing any published total: no sequence of
additions and subtractions of published figures isolates it. Sibling groups are
protected even when their parent is not among the cells, because that total is usually
published elsewhere; an only child whose parent is not among the cells cannot be
protected here and is left as it is.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from services.reporting.indicators.catalogue import Bilingual

DEFAULT_MIN_DENOMINATOR = 10

SUPPRESSED_LABEL: Bilingual = {"id": "disembunyikan", "en": "suppressed"}


class SuppressionReason(StrEnum):
    PRIMARY = "primary"
    COMPLEMENTARY = "complementary"


@dataclass(frozen=True)
class Cell:
    """One region's figure. ``value`` (a percentage, a median) is withheld with the cell."""

    region_code: str
    parent_code: str | None
    numerator: int | None
    denominator: int
    value: float | None = None


@dataclass(frozen=True)
class ProtectedCell:
    region_code: str
    parent_code: str | None
    numerator: int | None
    denominator: int | None
    value: float | None
    suppression: SuppressionReason | None

    @property
    def suppressed(self) -> bool:
        return self.suppression is not None


def suppress(
    cells: Iterable[Cell], *, min_denominator: int = DEFAULT_MIN_DENOMINATOR
) -> list[ProtectedCell]:
    """The cells in input order, with small cells and their complements withheld.

    A cell with denominator 0 describes nobody and is not withheld for its own sake.
    """
    rows = list(cells)
    by_code: dict[str, Cell] = {}
    for cell in rows:
        if cell.region_code in by_code:
            raise ValueError(f"region {cell.region_code} appears twice")
        if cell.parent_code == cell.region_code:
            raise ValueError(f"region {cell.region_code} is its own parent")
        by_code[cell.region_code] = cell
    children: dict[str | None, list[str]] = {}
    for cell in rows:
        children.setdefault(cell.parent_code, []).append(cell.region_code)

    withheld: dict[str, SuppressionReason] = {
        cell.region_code: SuppressionReason.PRIMARY
        for cell in rows
        if 0 < cell.denominator < min_denominator
    }

    def smallest(codes: list[str]) -> str:
        # Cells that describe nobody protect nothing if their emptiness is known elsewhere.
        return min(codes, key=lambda c: (by_code[c].denominator == 0, by_code[c].denominator, c))

    changed = True
    while changed:
        changed = False
        for parent, group in children.items():
            hidden = [code for code in group if code in withheld]
            if len(hidden) != 1:
                continue
            published = [code for code in group if code not in withheld]
            if published:
                withheld[smallest(published)] = SuppressionReason.COMPLEMENTARY
                changed = True
            elif parent in by_code and parent not in withheld:
                withheld[parent] = SuppressionReason.COMPLEMENTARY
                changed = True
        for code in list(withheld):
            group = children.get(code, [])
            if group and not any(child in withheld for child in group):
                withheld[smallest(group)] = SuppressionReason.COMPLEMENTARY
                changed = True

    return [_protect(cell, withheld.get(cell.region_code)) for cell in rows]


def _protect(cell: Cell, reason: SuppressionReason | None) -> ProtectedCell:
    if reason is None:
        return ProtectedCell(
            region_code=cell.region_code,
            parent_code=cell.parent_code,
            numerator=cell.numerator,
            denominator=cell.denominator,
            value=cell.value,
            suppression=None,
        )
    return ProtectedCell(
        region_code=cell.region_code,
        parent_code=cell.parent_code,
        numerator=None,
        denominator=None,
        value=None,
        suppression=reason,
    )
