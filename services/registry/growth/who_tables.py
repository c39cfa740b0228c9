"""WHO Child Growth Standards (2006) LMS tables, loaded once into numpy arrays.

Age-based tables are indexed by ``[sex - 1, day - start]``; the weight-for-length and
weight-for-height tables by ``[sex - 1, tenths_of_cm - start]`` (45.0 cm -> 450).
"""

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from common.reference_data import reference_data_dir

TABLE_DIR = "who-growth-standards"


@dataclass(frozen=True)
class LmsTable:
    """One indicator's L, M, S values for both sexes on a contiguous integer index."""

    name: str
    start: int
    l: np.ndarray  # noqa: E741  (the standard's own name for the Box-Cox power)
    m: np.ndarray
    s: np.ndarray

    @property
    def stop(self) -> int:
        """Last index value held (inclusive)."""
        return self.start + self.m.shape[1] - 1


@dataclass(frozen=True)
class WhoTables:
    len: LmsTable
    wei: LmsTable
    wfl: LmsTable
    wfh: LmsTable
    bmi: LmsTable
    hc: LmsTable
    ac: LmsTable


def _read_table(path: Path, index_column: str, scale: int) -> LmsTable:
    by_sex: dict[int, list[tuple[int, float, float, float]]] = {1: [], 2: []}
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            index = round(float(row[index_column]) * scale)
            by_sex[int(row["sex"])].append(
                (index, float(row["l"]), float(row["m"]), float(row["s"]))
            )
    males, females = sorted(by_sex[1]), sorted(by_sex[2])
    indexes = [r[0] for r in males]
    start = indexes[0]
    # A gap or a mismatch between the sexes would silently shift every lookup.
    if indexes != list(range(start, start + len(indexes))) or indexes != [r[0] for r in females]:
        raise ValueError(f"{path.name}: index not contiguous or sexes differ")
    values = np.array([[r[1:] for r in males], [r[1:] for r in females]], dtype=np.float64)
    if np.any(values[:, :, 0] == 0) or not np.all(np.isfinite(values)):
        raise ValueError(f"{path.name}: L = 0 or non-numeric value")
    return LmsTable(
        name=path.stem,
        start=start,
        l=np.ascontiguousarray(values[:, :, 0]),
        m=np.ascontiguousarray(values[:, :, 1]),
        s=np.ascontiguousarray(values[:, :, 2]),
    )


@cache
def load_who_tables() -> WhoTables:
    """Read the seven indicator tables (cached for the life of the process)."""
    folder = reference_data_dir() / TABLE_DIR
    return WhoTables(
        len=_read_table(folder / "lenanthro.csv", "age", 1),
        wei=_read_table(folder / "weianthro.csv", "age", 1),
        wfl=_read_table(folder / "wflanthro.csv", "length", 10),
        wfh=_read_table(folder / "wfhanthro.csv", "height", 10),
        bmi=_read_table(folder / "bmianthro.csv", "age", 1),
        hc=_read_table(folder / "hcanthro.csv", "age", 1),
        ac=_read_table(folder / "acanthro.csv", "age", 1),
    )
