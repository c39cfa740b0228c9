"""Roll-up of village tallies to every level, figures per unit, and small-cell
protection of a tree (pure code, no database)."""

from services.reporting.engine.compute import Figure, RegionFigures, _figure, _roll_up
from services.reporting.indicators.catalogue import CATALOGUE
from services.reporting.regions import Region, RegionIndex
from services.reporting.values.service import shown_figures

REGIONS = RegionIndex(
    [
        Region("64", "province", "P", None),
        Region("64.01", "regency", "R", "64"),
        Region("64.01.01", "district", "D1", "64.01"),
        Region("64.01.02", "district", "D2", "64.01"),
        Region("64.01.01.2001", "village", "X", "64.01.01"),
        Region("64.01.01.2002", "village", "Y", "64.01.01"),
        Region("64.01.01.2003", "village", "Z", "64.01.01"),
        Region("64.01.02.2001", "village", "W", "64.01.02"),
    ]
)
STUNTING = CATALOGUE.resolve("stunting_prevalence")


def test_village_tallies_add_up_to_every_level_within_the_root():
    villages = {"64.01.01.2001": (3, 10), "64.01.01.2002": (1, 2), "64.01.02.2001": (0, 4)}
    assert _roll_up(villages, "64") == {
        "64": (4, 16),
        "64.01": (4, 16),
        "64.01.01": (4, 12),
        "64.01.02": (0, 4),
        **villages,
    }
    # Under a district root the levels above it are not reported.
    assert "64.01" not in _roll_up(villages, "64.01.01")


def test_figures_per_unit():
    assert _figure(STUNTING, 2, 7) == Figure(28.6, 2, 7, 7)
    assert _figure(STUNTING, 0, 0) == Figure(None, 0, 0, 0)
    measured = CATALOGUE.resolve("children_measured")
    assert _figure(measured, 12, 12) == Figure(12, 12, None, 12)
    krs_count = CATALOGUE.resolve("krs_households")
    assert _figure(krs_count, 3, 40) == Figure(3, 3, None, 40)  # withheld with its share
    sites = CATALOGUE.resolve("kampung_kb_sites:mandiri")
    assert _figure(sites, 2, 2) == Figure(2, 2, None, None)  # places, never withheld


def _tree(villages: dict[str, tuple[int, int]]) -> RegionFigures:
    sums = _roll_up(villages, "64")
    return RegionFigures(
        STUNTING, {c: _figure(STUNTING, *p) for c, p in sums.items()}, _figure(STUNTING, 0, 0)
    )


def test_small_cell_and_its_complement_are_withheld_empty_cells_stay():
    tree = _tree({"64.01.01.2001": (3, 10), "64.01.01.2002": (1, 2)})
    shown = shown_figures(tree, REGIONS, "64", protected=True, threshold=10)
    assert shown["64.01.01.2002"].suppressed == "primary"
    assert shown["64.01.01.2001"].suppressed == "complementary"
    assert shown["64.01.01.2001"].value is None and shown["64.01.01.2001"].numerator is None
    assert (shown["64.01.01"].numerator, shown["64.01.01"].denominator) == (4, 12)
    # Z describes nobody: shown as the empty cell, not withheld.
    assert shown["64.01.01.2003"].suppressed is None and shown["64.01.01.2003"].denominator == 0
    unprotected = shown_figures(tree, REGIONS, "64", protected=False, threshold=10)
    assert unprotected["64.01.01.2002"].numerator == 1


def test_withheld_district_takes_its_sibling_and_their_villages_with_it():
    tree = _tree({"64.01.01.2001": (3, 10), "64.01.01.2002": (2, 12), "64.01.02.2001": (1, 4)})
    shown = shown_figures(tree, REGIONS, "64", protected=True, threshold=10)
    # W (4) and its district D2 (4) are small themselves.
    assert shown["64.01.02.2001"].suppressed == "primary"
    assert shown["64.01.02"].suppressed == "primary"
    # D2 would be the regency minus D1: D1 goes; D1 would be X + Y: X goes, then Y.
    assert shown["64.01.01"].suppressed == "complementary"
    assert shown["64.01.01.2001"].suppressed == "complementary"
    assert shown["64.01.01.2002"].suppressed == "complementary"
    assert shown["64.01"].suppressed is None and shown["64.01"].denominator == 26
