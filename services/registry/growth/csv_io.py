"""The tabular contract shared by ``POST /v1/growth/zscores`` and ``kkb zscores``.

Input columns: ``sex`` (1/2, M/F, L/P), ``birth_date`` + ``visit_date`` or ``age_days``,
``weight_kg``, ``height_cm``, ``measure`` (l/h), ``oedema`` (y/n), ``head_cm``,
``muac_cm``; any other column is passed through. Output: the input columns, then
:data:`OUTPUT_COLUMNS`. Every row comes back; a bad row carries its errors in ``error``
(``code:field; …``) and ``error_message`` and gets no z-score.
"""

import csv
import io
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np

from services.registry.growth.bulk import BulkResult, compute_bulk
from services.registry.growth.classify import SCHEMES
from services.registry.growth.issues import ERROR_BITS, ERRORS, WARNINGS, Issue
from services.registry.growth.models import CLASSIFIED_INDICATORS, INDICATORS
from services.registry.growth.validation import (
    MEASURE_INVALID,
    MEASURE_MISSING,
    MEASURE_SPELLINGS,
    OEDEMA_INVALID,
    OEDEMA_NO,
    OEDEMA_SPELLINGS,
    OEDEMA_YES,
    SEX_INVALID,
    SEX_MISSING,
    SEX_SPELLINGS,
    InputColumns,
    spelled,
)
from services.registry.growth.who_tables import WhoTables, load_who_tables

MAX_API_ROWS = 10_000
CHUNK_ROWS = 50_000

INPUT_COLUMNS = (
    "sex",
    "birth_date",
    "visit_date",
    "age_days",
    "weight_kg",
    "height_cm",
    "measure",
    "oedema",
    "head_cm",
    "muac_cm",
)
NUMBER_COLUMNS = ("age_days", "weight_kg", "height_cm", "head_cm", "muac_cm")
Z_COLUMNS = tuple(f"z{name}" for name in INDICATORS)
FLAG_COLUMNS = tuple(f"f{name}" for name in INDICATORS)
CLASS_COLUMNS = tuple(f"class_{name}" for name in CLASSIFIED_INDICATORS)
OUTPUT_COLUMNS = (*Z_COLUMNS, *FLAG_COLUMNS, *CLASS_COLUMNS, "error", "error_message", "warning")

_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


class CsvFormatError(ValueError):
    """The table as a whole cannot be read (e.g. a required column is missing)."""

    def __init__(self, code: str, message: dict[str, str]) -> None:
        super().__init__(message["en"])
        self.code = code
        self.message = message


@dataclass(frozen=True)
class CsvSummary:
    rows: int
    rows_with_errors: int


def check_columns(columns: Iterable[str]) -> None:
    """Raise :class:`CsvFormatError` unless sex, an age and a measurement column exist."""
    present = set(columns)
    missing = []
    if "sex" not in present:
        missing.append("sex")
    if not ({"birth_date", "visit_date"} <= present or "age_days" in present):
        missing.append("birth_date+visit_date|age_days")
    if not present & {"weight_kg", "height_cm", "head_cm", "muac_cm"}:
        missing.append("weight_kg|height_cm|head_cm|muac_cm")
    if missing:
        names = ", ".join(missing)
        raise CsvFormatError(
            "missing_columns",
            {"en": f"Missing column(s): {names}", "id": f"Kolom tidak ada: {names}"},
        )


def _text(cell: object) -> str:
    return "" if cell is None else str(cell).strip()


def _float_cell(cell: object) -> tuple[float, bool]:
    """(value, ok); empty is NaN and ok. Accepts a decimal comma ("8,5")."""
    if cell is None or isinstance(cell, bool):
        return np.nan, cell is None
    if isinstance(cell, int | float):
        value = float(cell)
        return (value, True) if math.isfinite(value) else (np.nan, math.isnan(value))
    text = str(cell).strip()
    if not text:
        return np.nan, True
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        return np.nan, False
    return (value, True) if math.isfinite(value) else (np.nan, False)


def _float_column(cells: Sequence[object]) -> tuple[np.ndarray, np.ndarray]:
    """Values (NaN for empty or bad) and a mask of cells that are not numbers."""
    if set(map(type, cells)) <= {str}:
        text = np.array(cells, dtype=str)
        empty = text == ""
        try:
            values = np.where(empty, "nan", text).astype(np.float64)
        except ValueError:
            pass  # a decimal comma, a blank or a bad cell: parse cell by cell
        else:
            bad = ~empty & ~np.isfinite(values)  # "nan" or "inf" typed in a cell
            values[bad] = np.nan
            return values, bad
    parsed = [_float_cell(c) for c in cells]
    return (
        np.array([p[0] for p in parsed], dtype=np.float64),
        np.array([not p[1] for p in parsed], dtype=bool),
    )


def _date_cell(cell: object) -> tuple[np.datetime64, bool]:
    if isinstance(cell, datetime):
        return np.datetime64(cell.date(), "D"), True
    if isinstance(cell, date):
        return np.datetime64(cell, "D"), True
    text = _text(cell)
    if not text:
        return np.datetime64("NaT", "D"), True
    try:
        if (match := _DMY.match(text)) is not None:
            day, month, year = (int(g) for g in match.groups())
            return np.datetime64(date(year, month, day), "D"), True
        if len(text) == 10:
            return np.datetime64(date.fromisoformat(text), "D"), True
    except ValueError:
        pass
    return np.datetime64("NaT", "D"), False


def _date_column(cells: Sequence[object]) -> tuple[np.ndarray, np.ndarray]:
    # numpy also reads "2024" or "2024-05" as a date; only full YYYY-MM-DD takes the fast path.
    if set(map(type, cells)) <= {str} and set(map(len, cells)) <= {0, 10}:
        try:
            return np.array(cells, dtype="datetime64[D]"), np.zeros(len(cells), dtype=bool)
        except ValueError:
            pass
    parsed = [_date_cell(c) for c in cells]
    return (
        np.array([p[0] for p in parsed], dtype="datetime64[D]"),
        np.array([not p[1] for p in parsed], dtype=bool),
    )


def _coded(cells: Sequence[object], codes: Mapping[str, int], missing: int, bad: int) -> np.ndarray:
    # Few distinct spellings per column: decide each once (keyed by type: True is not 1).
    memo: dict[tuple[type, object], int] = {}
    out = []
    for cell in cells:
        key = (cell.__class__, cell)
        try:
            value = memo[key]
        except KeyError:
            value = memo[key] = spelled(cell, codes, missing, bad)
        except TypeError:  # an unhashable cell, e.g. a JSON list
            value = spelled(cell, codes, missing, bad)
        out.append(value)
    return np.array(out, dtype=np.int64)


def _bits(mask: np.ndarray, code: str, field: str) -> np.ndarray:
    return np.where(mask, np.uint64(ERROR_BITS[code, field]), np.uint64(0))


def parse_columns(table: Mapping[str, Sequence[object]], n: int) -> InputColumns:
    """Typed columns from raw cells (strings, numbers, dates or None), column by column."""
    empty: Sequence[object] = [""] * n
    errors = np.zeros(n, dtype=np.uint64)
    numbers = {}
    for name in NUMBER_COLUMNS:
        values, bad = _float_column(table.get(name, empty))
        numbers[name] = values
        errors |= _bits(bad, "not_a_number", name)

    birth, bad_birth = _date_column(table.get("birth_date", empty))
    visit, bad_visit = _date_column(table.get("visit_date", empty))
    errors |= _bits(bad_birth, "date_invalid", "birth_date")
    errors |= _bits(bad_visit, "date_invalid", "visit_date")
    has_dates = ~np.isnat(birth) & ~np.isnat(visit)
    from_dates = (visit - birth).astype(np.float64)
    errors |= _bits(has_dates & (from_dates < 0), "visit_before_birth", "visit_date")
    # Dates win over age_days; with one date of the pair missing, age_days is used.
    age = np.where(has_dates, np.where(from_dates < 0, np.nan, from_dates), numbers["age_days"])

    measure = _coded(
        table.get("measure", empty), MEASURE_SPELLINGS, MEASURE_MISSING, MEASURE_INVALID
    )
    oedema = _coded(table.get("oedema", empty), OEDEMA_SPELLINGS, OEDEMA_NO, OEDEMA_INVALID)
    errors |= _bits(oedema == OEDEMA_INVALID, "oedema_invalid", "oedema")
    return InputColumns(
        sex=_coded(table.get("sex", empty), SEX_SPELLINGS, SEX_MISSING, SEX_INVALID),
        age_days=age,
        weight_kg=numbers["weight_kg"],
        height_cm=numbers["height_cm"],
        measure=measure.astype(np.int8),
        oedema=oedema == OEDEMA_YES,
        head_cm=numbers["head_cm"],
        muac_cm=numbers["muac_cm"],
        parse_errors=errors,
    )


def _issue_text(mask: int, issues: tuple[Issue, ...], lang: str | None) -> str:
    if not mask:
        return ""
    chosen = [issue for i, issue in enumerate(issues) if mask >> i & 1]
    if lang is None:
        return "; ".join(f"{issue.code}:{issue.field}" for issue in chosen)
    return "; ".join(issue.message[lang] for issue in chosen)


def _mapped(values: np.ndarray, text: Callable[[Any], object]) -> list[object]:
    """``text`` of each value, computed once per distinct value (few of them per column)."""
    uniques, inverse = np.unique(values, return_inverse=True)
    texts = np.array([text(v) for v in uniques.tolist()], dtype=object)
    return texts[inverse.reshape(-1)].tolist()


def _issue_texts(masks: np.ndarray, issues: tuple[Issue, ...], lang: str | None) -> list[object]:
    return _mapped(masks, lambda mask: _issue_text(mask, issues, lang))


def result_columns(
    result: BulkResult, lang: str = "id", decimals: int = 2, as_text: bool = False
) -> dict[str, list[object]]:
    """Output columns: z rounded to ``decimals``, flags 1/0, class codes, issue texts
    ("" if none). Not applicable is None, or "" with ``as_text`` (all values strings)."""
    none = "" if as_text else None
    fmt = f"%.{decimals}f"
    out: dict[str, list[object]] = {}
    for name in INDICATORS:
        # + 0.0 turns a rounded -0.0 into 0.0.
        rounded = np.round(result.z[name], decimals) + 0.0
        if as_text:
            out[f"z{name}"] = _mapped(rounded, lambda v: "" if v != v else fmt % v)
        else:
            out[f"z{name}"] = [None if v != v else v for v in rounded.tolist()]
    flag_values = np.array([none, "0", "1"] if as_text else [none, 0, 1], dtype=object)
    for name in INDICATORS:
        out[f"f{name}"] = flag_values[result.flags[name] + 1].tolist()
    for name in CLASSIFIED_INDICATORS:
        codes = np.array([none, *(c.code for c in SCHEMES[name].classes)], dtype=object)
        out[f"class_{name}"] = codes[result.classes[name] + 1].tolist()
    out["error"] = _issue_texts(result.errors, ERRORS, None)  # type: ignore[assignment]
    out["error_message"] = _issue_texts(result.errors, ERRORS, lang)  # type: ignore[assignment]
    out["warning"] = _issue_texts(result.warnings, WARNINGS, None)  # type: ignore[assignment]
    return out


def compute_rows(
    rows: Sequence[Mapping[str, object]],
    lang: str = "id",
    decimals: int = 2,
    max_rows: int | None = MAX_API_ROWS,
    tables: WhoTables | None = None,
) -> list[dict[str, object]]:
    """Each input row (a mapping of column to cell) plus the output columns, typed values.

    Raises :class:`CsvFormatError` if the required columns are absent from every row or
    there are more than ``max_rows`` rows.
    """
    if max_rows is not None and len(rows) > max_rows:
        raise CsvFormatError(
            "too_many_rows",
            {
                "en": f"At most {max_rows:,} rows per request; use the file import for more",
                "id": f"Paling banyak {max_rows} baris per permintaan; gunakan impor berkas",
            },
        )
    names = {key.strip().lower() for row in rows for key in row}
    if rows:
        check_columns(names)
    normalised = [{key.strip().lower(): value for key, value in row.items()} for row in rows]
    table = {name: [row.get(name) for row in normalised] for name in INPUT_COLUMNS}
    result = compute_bulk(parse_columns(table, len(rows)), tables)
    out = result_columns(result, lang, decimals)
    return [
        {**row, **{column: values[i] for column, values in out.items()}}
        for i, row in enumerate(rows)
    ]


def _chunks(reader: Iterator[list[str]], size: int, width: int) -> Iterator[list[list[str]]]:
    """Chunks of non-blank rows, each padded to at least ``width`` cells."""
    chunk: list[list[str]] = []
    for row in reader:
        if not any(row):  # blank line, or only delimiters as spreadsheets export
            continue
        if len(row) < width:
            row += [""] * (width - len(row))
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _delimiter(header_line: str) -> str:
    # Spreadsheets set to Indonesian write ";" because "," is the decimal mark.
    return max((",", ";", "\t"), key=header_line.count)


def convert_stream(
    src: IO[str],
    dst: IO[str],
    lang: str = "id",
    decimals: int = 2,
    chunk_rows: int = CHUNK_ROWS,
    tables: WhoTables | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CsvSummary:
    """Read a CSV from ``src`` and write it with the output columns to ``dst``, in chunks.

    ``progress(rows, rows_with_errors)`` is called after each chunk with the totals so far.
    """
    tables = tables or load_who_tables()
    header_line = src.readline()
    delimiter = _delimiter(header_line)
    header = next(csv.reader(io.StringIO(header_line), delimiter=delimiter), [])
    names = [h.strip().lstrip("\ufeff").strip().lower() for h in header]
    check_columns(names)
    positions = {name: names.index(name) for name in INPUT_COLUMNS if name in names}
    writer = csv.writer(dst, delimiter=delimiter, lineterminator="\n")
    writer.writerow([*header, *OUTPUT_COLUMNS])
    rows = errors = 0
    for chunk in _chunks(csv.reader(src, delimiter=delimiter), chunk_rows, len(header)):
        # zip stops at the shortest row; every row has at least len(header) cells.
        cells = list(zip(*chunk, strict=False))
        table = {name: cells[pos] for name, pos in positions.items()}
        result = compute_bulk(parse_columns(table, len(chunk)), tables)
        out = result_columns(result, lang, decimals, as_text=True)
        columns = [out[name] for name in OUTPUT_COLUMNS]
        writer.writerows(
            [*row, *cells] for row, cells in zip(chunk, zip(*columns, strict=True), strict=True)
        )
        rows += len(chunk)
        errors += int(np.count_nonzero(result.errors))
        if progress is not None:
            progress(rows, errors)
    return CsvSummary(rows=rows, rows_with_errors=errors)


def convert_csv(
    in_path: str | Path,
    out_path: str | Path,
    lang: str = "id",
    decimals: int = 2,
    chunk_rows: int = CHUNK_ROWS,
    progress: Callable[[int, int], None] | None = None,
) -> CsvSummary:
    """``kkb zscores IN.csv -o OUT.csv``: file to file, streaming in chunks of rows."""
    with (
        Path(in_path).open(newline="", encoding="utf-8-sig") as src,
        Path(out_path).open("w", newline="", encoding="utf-8") as dst,
    ):
        return convert_stream(src, dst, lang, decimals, chunk_rows, progress=progress)
