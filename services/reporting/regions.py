"""The Kemendagri region list as reporting needs it: names, levels and the tree, for
drill-down, suppression across the hierarchy and labels. Read once from the shared
reference data (``wilayah.csv``), never from another service's tables."""

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from common.errors import ProblemError
from common.reference_data import reference_data_dir

LEVELS = ("province", "regency", "district", "village")
_CODE_LENGTH = {"province": 2, "regency": 5, "district": 8, "village": 13}


@dataclass(frozen=True)
class Region:
    code: str
    level: str
    name: str
    parent_code: str | None


class RegionIndex:
    def __init__(self, regions: list[Region]) -> None:
        self._by_code = {r.code: r for r in regions}
        self._children: dict[str, list[str]] = {}
        for region in regions:
            if region.parent_code:
                self._children.setdefault(region.parent_code, []).append(region.code)
        for codes in self._children.values():
            codes.sort()

    def get(self, code: str) -> Region | None:
        return self._by_code.get(code)

    def require(self, code: str) -> Region:
        region = self._by_code.get(code)
        if region is None:
            raise ProblemError(
                422,
                "region_unknown",
                detail={
                    "id": f"Kode wilayah '{code}' tidak dikenal (contoh: 61.04 atau "
                    "61.04.16.2007).",
                    "en": f"Region code '{code}' is not known (e.g. 61.04 or 61.04.16.2007).",
                },
            )
        return region

    def name(self, code: str) -> str:
        region = self._by_code.get(code)
        return region.name if region else code

    def children(self, code: str) -> list[str]:
        return list(self._children.get(code, ()))

    def descendants(self, code: str) -> Iterator[str]:
        """Every region under ``code``, parents before their children."""
        for child in self._children.get(code, ()):
            yield child
            yield from self.descendants(child)

    def villages(self, code: str) -> list[str]:
        region = self.require(code)
        if region.level == "village":
            return [code]
        return [c for c in self.descendants(code) if self._by_code[c].level == "village"]

    def ancestor(self, code: str, level: str) -> str:
        """The ancestor of ``code`` at ``level`` (the code itself at its own level)."""
        return code[: _CODE_LENGTH[level]]


@lru_cache(maxsize=1)
def region_index() -> RegionIndex:
    path = reference_data_dir() / "wilayah" / "wilayah.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        regions = [
            Region(r["code"], r["level"], r["name"], r["parent_code"] or None)
            for r in csv.DictReader(fh)
        ]
    return RegionIndex(regions)
