import csv
import io
from collections.abc import Iterator
from datetime import date, datetime

import openpyxl

from services.reporting.exports import (
    DEFINITIONS_SHEET,
    Column,
    ColumnKind,
    csv_chunks,
    xlsx_bytes,
)
from services.reporting.indicators.catalogue import CATALOGUE

COLUMNS = [
    Column("village_code", {"id": "Kode desa", "en": "Village code"}),
    Column("village", {"id": "Desa", "en": "Village"}),
    Column("measured", {"id": "Balita diukur", "en": "Children measured"}, ColumnKind.INTEGER),
    Column("stunting", {"id": "Stunting (%)", "en": "Stunting (%)"}, ColumnKind.DECIMAL),
    Column("as_of", {"id": "Per tanggal", "en": "As of"}, ColumnKind.DATE),
]
ROWS: list[dict[str, object]] = [
    {
        "village_code": "61.04.16.2007",
        "village": "Kali Nilam",
        "measured": 120,
        "stunting": 22.45,  # written as 22.5: half up on the decimal value
        "as_of": date(2026, 3, 31),
    },
    {
        "village_code": "61.04.16.2001",
        "village": '=HYPERLINK("http://x")',
        "measured": None,  # withheld
        "stunting": None,
        "as_of": datetime(2026, 3, 31, 23, 59),
    },
    {"village_code": "61.04.16.2002", "village": 'Sukabangun, "Dalam"', "measured": 7},
]


def read_csv(chunks: Iterator[bytes]) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8"), newline="")))


def test_csv_round_trip_in_indonesian() -> None:
    rows = read_csv(csv_chunks(ROWS, COLUMNS, lang="id"))
    assert rows[0] == ["Kode desa", "Desa", "Balita diukur", "Stunting (%)", "Per tanggal"]
    assert rows[1] == ["61.04.16.2007", "Kali Nilam", "120", "22.5", "2026-03-31"]
    assert rows[2] == ["61.04.16.2001", '\'=HYPERLINK("http://x")', "", "", "2026-03-31"]
    assert rows[3] == ["61.04.16.2002", 'Sukabangun, "Dalam"', "7", "", ""]
    assert len(rows) == 4


def test_csv_headers_in_english_and_other_delimiter_and_bom() -> None:
    data = b"".join(csv_chunks(ROWS[:1], COLUMNS, lang="en", delimiter=";", bom=True))
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0] == "Village code;Village;Children measured;Stunting (%);As of"


def test_csv_streams_in_chunks_without_reading_ahead() -> None:
    consumed: list[int] = []

    def source() -> Iterator[dict[str, object]]:
        for i in range(5):
            consumed.append(i)
            yield {"village_code": f"c{i}", "measured": i}

    chunks = csv_chunks(source(), COLUMNS, rows_per_chunk=2)
    header = next(chunks)
    assert header.startswith(b"Kode desa") and consumed == []
    first = next(chunks)
    assert consumed == [0, 1] and first.count(b"\r\n") == 2
    rest = list(chunks)
    assert len(rest) == 2 and rest[-1].count(b"\r\n") == 1


def test_xlsx_round_trip() -> None:
    definitions = [CATALOGUE.resolve("stunting_prevalence"), CATALOGUE.resolve("coverage:S2")]
    data = xlsx_bytes(
        ROWS, COLUMNS, lang="en", sheet_title="lokus 2026/Q1", definitions=definitions
    )
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["lokus 2026-Q1", DEFINITIONS_SHEET]
    sheet = book["lokus 2026-Q1"]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("Village code", "Village", "Children measured", "Stunting (%)", "As of")
    assert values[1] == ("61.04.16.2007", "Kali Nilam", 120, 22.5, datetime(2026, 3, 31))
    assert values[2] == (
        "61.04.16.2001",
        '=HYPERLINK("http://x")',
        None,
        None,
        datetime(2026, 3, 31),
    )
    assert values[3][:3] == ("61.04.16.2002", 'Sukabangun, "Dalam"', 7)
    assert len(values) == 4
    assert sheet["B3"].data_type == "s"  # stored as text, not as a formula
    assert sheet["A1"].font.bold
    assert sheet["C2"].number_format == "#,##0"
    assert sheet["D2"].number_format == "0.0"
    assert sheet["E2"].number_format == "yyyy-mm-dd"
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:E4"


def test_xlsx_definitions_sheet() -> None:
    definitions = [CATALOGUE.resolve("stunting_prevalence"), CATALOGUE.resolve("coverage:S2")]
    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(ROWS, COLUMNS, definitions=definitions)))
    rows = list(book[DEFINITIONS_SHEET].iter_rows(values_only=True))
    assert rows[0][:5] == ("Kode", "Versi", "Nama", "Pembilang", "Penyebut")
    assert [r[0] for r in rows[1:]] == ["stunting_prevalence", "coverage:S2"]
    stunting = rows[1]
    assert stunting[1] == 1
    assert stunting[2] == "Prevalensi stunting (pendek dan sangat pendek)"
    assert stunting[5] == "%"
    assert stunting[6] == "makin rendah makin baik"
    assert stunting[7] == "growth_measurement"
    assert stunting[8] == datetime(2018, 1, 1)


def test_xlsx_with_no_rows_has_headers_only() -> None:
    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes([], COLUMNS)))
    assert list(book["data"].iter_rows(values_only=True)) == [
        ("Kode desa", "Desa", "Balita diukur", "Stunting (%)", "Per tanggal")
    ]
