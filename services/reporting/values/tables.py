"""Values and series as flat tables for CSV/XLSX, and the download responses."""

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Literal

from fastapi.responses import Response, StreamingResponse

from services.reporting.exports import Column, ColumnKind, csv_chunks, xlsx_bytes
from services.reporting.indicators.catalogue import UNIT_LABELS, IndicatorDefinition, Lang
from services.reporting.periods import Period
from services.reporting.regions import Region
from services.reporting.suppression import SUPPRESSED_LABEL
from services.reporting.values.service import RegionRow, Shown, ValuesResult

ExportFormat = Literal["csv", "xlsx"]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_COMMON = [
    Column("indicator", {"id": "Kode indikator", "en": "Indicator code"}, width=28),
    Column("indicator_name", {"id": "Indikator", "en": "Indicator"}, width=40),
    Column("region_code", {"id": "Kode wilayah", "en": "Region code"}, width=16),
    Column("region_name", {"id": "Wilayah", "en": "Region"}, width=28),
    Column("level", {"id": "Tingkat", "en": "Level"}, width=10),
    Column("period", {"id": "Periode", "en": "Period"}, width=12),
    Column("numerator", {"id": "Pembilang", "en": "Numerator"}, ColumnKind.INTEGER),
    Column("denominator", {"id": "Penyebut", "en": "Denominator"}, ColumnKind.INTEGER),
    Column("value", {"id": "Nilai", "en": "Value"}, ColumnKind.DECIMAL),
    Column("unit", {"id": "Satuan", "en": "Unit"}, width=8),
]
VALUE_COLUMNS = [
    *_COMMON,
    Column(
        "previous_value",
        {"id": "Nilai periode lalu", "en": "Previous value"},
        ColumnKind.DECIMAL,
    ),
    Column("change", {"id": "Perubahan", "en": "Change"}, ColumnKind.DECIMAL),
    Column("note", {"id": "Catatan", "en": "Note"}, width=16),
]
SERIES_COLUMNS = [*_COMMON, Column("note", {"id": "Catatan", "en": "Note"}, width=16)]


def _note(shown: Shown, lang: Lang) -> str | None:
    return SUPPRESSED_LABEL[lang] if shown.suppressed else None


def _base(
    definition: IndicatorDefinition, row_region: Region, period: Period, shown: Shown, lang: Lang
) -> dict[str, object]:
    return {
        "indicator": definition.code,
        "indicator_name": definition.name[lang],
        "region_code": row_region.code,
        "region_name": row_region.name,
        "level": row_region.level,
        "period": period.code,
        "numerator": shown.numerator,
        "denominator": shown.denominator,
        "value": shown.value,
        "unit": UNIT_LABELS[definition.unit][lang],
        "note": _note(shown, lang),
    }


def value_rows(result: ValuesResult, lang: Lang) -> Iterator[dict[str, object]]:
    for item in result.indicators:
        rows: list[RegionRow] = [item.row, *(item.children or [])]
        for row in rows:
            yield {
                **_base(item.definition, row.region, result.period, row.current, lang),
                "previous_value": row.previous.value,
                "change": row.change.absolute if row.change else None,
            }


def series_rows(
    definition: IndicatorDefinition,
    region: Region,
    points: Sequence[tuple[Period, Shown]],
    lang: Lang,
) -> Iterator[dict[str, object]]:
    for period, shown in points:
        yield _base(definition, region, period, shown, lang)


def download(
    rows: Iterable[Mapping[str, object]],
    columns: Sequence[Column],
    fmt: ExportFormat,
    *,
    lang: Lang,
    filename: str,
    definitions: Sequence[IndicatorDefinition],
) -> Response:
    """A CSV (streamed, with a BOM for spreadsheet programs) or XLSX attachment."""
    if fmt == "csv":
        return StreamingResponse(
            csv_chunks(rows, columns, lang=lang, bom=True),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
        )
    body = xlsx_bytes(rows, columns, lang=lang, sheet_title=filename, definitions=definitions)
    return Response(
        body,
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}.xlsx"'},
    )
