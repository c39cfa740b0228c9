"""Tables to CSV (streamed in chunks) and XLSX (with a sheet of indicator definitions).

Numbers are written machine-readable in both languages (``21.5``, not ``21,5``); only
the headers and the definitions follow ``lang``. Text that a spreadsheet would run as
a formula is neutralised: CSV gets a leading apostrophe, XLSX stores it as plain text.
"""

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from services.reporting.indicators.catalogue import (
    DIRECTION_LABELS,
    UNIT_LABELS,
    Bilingual,
    IndicatorDefinition,
    Lang,
)
from services.reporting.indicators.formulas import round_half_up

DEFINITIONS_SHEET = "definitions"
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_SHEET_NAME_FORBIDDEN = str.maketrans({c: "-" for c in "[]:*?/\\"})
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", start_color="1F5F8B")
_HEADER_ALIGNMENT = Alignment(vertical="top", wrap_text=True)


class ColumnKind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"


@dataclass(frozen=True)
class Column:
    key: str
    label: Bilingual
    kind: ColumnKind = ColumnKind.TEXT
    decimals: int = 1
    width: int | None = None

    @property
    def number_format(self) -> str:
        match self.kind:
            case ColumnKind.INTEGER:
                return "#,##0"
            case ColumnKind.DECIMAL:
                return "0." + "0" * self.decimals if self.decimals else "0"
            case ColumnKind.DATE:
                return "yyyy-mm-dd"
            case _:
                return "@"


def _typed(column: Column, value: object) -> object:
    """The value as the column's type; None stays None (withheld or missing)."""
    if value is None:
        return None
    match column.kind:
        case ColumnKind.INTEGER:
            return int(value)  # type: ignore[call-overload]
        case ColumnKind.DECIMAL:
            return round_half_up(value, column.decimals)  # type: ignore[arg-type]
        case ColumnKind.DATE:
            return value.date() if isinstance(value, datetime) else value
        case _:
            return str(value)


def _csv_text(column: Column, value: object) -> str:
    typed = _typed(column, value)
    if typed is None:
        return ""
    if column.kind is ColumnKind.DECIMAL:
        return f"{typed:.{column.decimals}f}"
    if column.kind is ColumnKind.DATE and isinstance(typed, date):
        return typed.isoformat()
    text = str(typed)
    if column.kind is ColumnKind.TEXT and text.startswith(_FORMULA_PREFIXES):
        return "'" + text
    return text


def csv_chunks(
    rows: Iterable[Mapping[str, object]],
    columns: Sequence[Column],
    *,
    lang: Lang = "id",
    rows_per_chunk: int = 500,
    delimiter: str = ",",
    bom: bool = False,
) -> Iterator[bytes]:
    """UTF-8 CSV as chunks of ``rows_per_chunk`` rows, the header first.

    ``bom`` prefixes a byte-order mark, which spreadsheet programs need to read UTF-8.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")

    def drain() -> bytes:
        data = buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        return data

    writer.writerow([column.label[lang] for column in columns])
    yield (b"\xef\xbb\xbf" if bom else b"") + drain()
    pending = 0
    for row in rows:
        writer.writerow([_csv_text(column, row.get(column.key)) for column in columns])
        pending += 1
        if pending == rows_per_chunk:
            yield drain()
            pending = 0
    if pending:
        yield drain()


def _sheet_name(title: str) -> str:
    return title.translate(_SHEET_NAME_FORBIDDEN)[:31] or "data"


def _header(sheet: WriteOnlyWorksheet, labels: Sequence[str]) -> list[WriteOnlyCell]:
    cells = []
    for label in labels:
        cell = WriteOnlyCell(sheet, value=label)
        cell.font, cell.fill, cell.alignment = _HEADER_FONT, _HEADER_FILL, _HEADER_ALIGNMENT
        cell.data_type = "s"
        cells.append(cell)
    return cells


def _data_cell(sheet: WriteOnlyWorksheet, column: Column, value: object) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=_typed(column, value))
    cell.number_format = column.number_format
    if column.kind is ColumnKind.TEXT and cell.value is not None:
        cell.data_type = "s"  # openpyxl would store "=…" as a formula
    return cell


def _definition_rows(
    definitions: Sequence[IndicatorDefinition], lang: Lang
) -> tuple[list[Column], list[dict[str, object]]]:
    columns = [
        Column("code", {"id": "Kode", "en": "Code"}, width=28),
        Column("version", {"id": "Versi", "en": "Version"}, ColumnKind.INTEGER, width=8),
        Column("name", {"id": "Nama", "en": "Name"}, width=40),
        Column("numerator", {"id": "Pembilang", "en": "Numerator"}, width=60),
        Column("denominator", {"id": "Penyebut", "en": "Denominator"}, width=60),
        Column("unit", {"id": "Satuan", "en": "Unit"}, width=10),
        Column("direction", {"id": "Arah", "en": "Direction"}, width=22),
        Column("sources", {"id": "Sumber data", "en": "Data source"}, width=28),
        Column(
            "valid_from", {"id": "Berlaku sejak", "en": "Valid from"}, ColumnKind.DATE, width=12
        ),
    ]
    rows: list[dict[str, object]] = [
        {
            "code": d.code,
            "version": d.version,
            "name": d.name[lang],
            "numerator": d.numerator[lang],
            "denominator": d.denominator[lang] if d.denominator else None,
            "unit": UNIT_LABELS[d.unit][lang],
            "direction": DIRECTION_LABELS[d.direction][lang],
            "sources": ", ".join(d.read_models),
            "valid_from": d.valid_from,
        }
        for d in definitions
    ]
    return columns, rows


def _write_table(
    sheet: WriteOnlyWorksheet,
    rows: Iterable[Mapping[str, object]],
    columns: Sequence[Column],
    lang: Lang,
) -> None:
    for index, column in enumerate(columns, start=1):
        width = column.width or max(10, min(50, len(column.label[lang]) + 2))
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.append(_header(sheet, [column.label[lang] for column in columns]))
    written = 0
    for row in rows:
        sheet.append([_data_cell(sheet, column, row.get(column.key)) for column in columns])
        written += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{written + 1}"


def xlsx_bytes(
    rows: Iterable[Mapping[str, object]],
    columns: Sequence[Column],
    *,
    lang: Lang = "id",
    sheet_title: str = "data",
    definitions: Sequence[IndicatorDefinition] = (),
) -> bytes:
    """A workbook: the table on the first sheet, the indicator definitions on the second.

    Written in openpyxl's write-only mode, so rows are not all held as cell objects.
    """
    workbook = Workbook(write_only=True)
    _write_table(workbook.create_sheet(_sheet_name(sheet_title)), rows, columns, lang)
    definition_columns, definition_rows = _definition_rows(definitions, lang)
    _write_table(
        workbook.create_sheet(DEFINITIONS_SHEET), definition_rows, definition_columns, lang
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
