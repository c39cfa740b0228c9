import csv
import io
from pathlib import Path

import pytest
from growth_expect import lms_z, restricted_z, who_lms

from services.registry.growth.csv_io import (
    MAX_API_ROWS,
    OUTPUT_COLUMNS,
    CsvFormatError,
    compute_rows,
    convert_csv,
    convert_stream,
)

ROWS = [
    # 2023-03-01 -> 2025-06-15 is 837 days; standing, so no adjustment.
    {"sex": "L", "birth_date": "2023-03-01", "visit_date": "2025-06-15", "weight_kg": "10,2",
     "height_cm": "82.3", "measure": "h", "oedema": "n"},
    {"sex": "P", "birth_date": "15/08/2024", "visit_date": "2025-06-15", "weight_kg": "8500",
     "height_cm": "70", "measure": "l", "oedema": ""},
    # 2021-06-15 -> 2026-06-15 is 1826 days: still scored (WHO anthro).
    {"sex": "2", "birth_date": "2021-06-15", "visit_date": "2026-06-15", "weight_kg": "15",
     "height_cm": "100", "measure": "h", "oedema": "y"},
    {"sex": "1", "birth_date": "2020-01-15", "visit_date": "2025-01-15", "weight_kg": "15",
     "height_cm": "100", "measure": "h", "oedema": ""},
]  # fmt: skip


def test_compute_rows_adds_the_output_columns() -> None:
    out = compute_rows(ROWS, lang="en")
    assert list(out[0])[: len(ROWS[0])] == list(ROWS[0])
    assert set(OUTPUT_COLUMNS) <= set(out[0])
    first = out[0]
    assert first["zlen"] == round(lms_z(82.3, who_lms("lenanthro", 1, "837")), 2)
    assert first["zwei"] == round(restricted_z(10.2, who_lms("weianthro", 1, "837")), 2)
    assert first["flen"] == 0 and first["fhc"] is None and first["zhc"] is None
    assert first["class_len"] == "stunted" and first["error"] == ""
    assert out[1]["error"] == "weight_in_grams:weight_kg"
    assert out[1]["zlen"] is None
    assert out[2]["zlen"] == round(lms_z(100.0, who_lms("lenanthro", 2, "1826")), 2)
    assert out[2]["zwei"] is None and out[2]["class_wfl"] == "severely_wasted"
    assert out[2]["warning"] == "oedema_weight_not_scored:oedema"
    assert out[3]["error"] == "age_60_months_or_more:age_days"


def test_missing_columns_are_refused_as_a_whole() -> None:
    with pytest.raises(CsvFormatError) as info:
        compute_rows([{"sex": "1", "weight_kg": "9"}])
    assert info.value.code == "missing_columns"
    assert "age_days" in info.value.message["id"]


def _write(path: Path, rows: list[dict[str, str]], delimiter: str) -> None:
    with path.open("w", newline="", encoding="utf-8-sig") as fh:  # with a BOM, as Excel does
        writer = csv.DictWriter(fh, fieldnames=["nama", *ROWS[0]], delimiter=delimiter)
        writer.writeheader()
        for i, row in enumerate(rows):
            writer.writerow({"nama": f"anak {i}", **row})


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_file_to_file(tmp_path: Path, delimiter: str) -> None:
    src, dst = tmp_path / "in.csv", tmp_path / "out.csv"
    _write(src, ROWS, delimiter)
    summary = convert_csv(src, dst, lang="en")
    assert (summary.rows, summary.rows_with_errors) == (4, 2)
    with dst.open(newline="") as fh:
        out = list(csv.DictReader(fh, delimiter=delimiter))
    assert list(out[0])[:2] == ["nama", "sex"]
    assert out[0]["nama"] == "anak 0" and out[0]["weight_kg"] == "10,2"
    expected = compute_rows(ROWS, lang="en")
    for got, want in zip(out, expected, strict=True):
        for column in OUTPUT_COLUMNS:
            value = want[column]
            text = f"{value:.2f}" if isinstance(value, float) else str(value)
            text = "" if value is None else text
            assert got[column] == text, column


def test_chunking_does_not_change_the_output() -> None:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(ROWS[0]))
    writer.writeheader()
    writer.writerows(ROWS * 5)
    outputs = []
    for chunk_rows in (1, 3, 1000):
        dst = io.StringIO()
        convert_stream(io.StringIO(text.getvalue()), dst, chunk_rows=chunk_rows)
        outputs.append(dst.getvalue())
    assert outputs[0] == outputs[1] == outputs[2]
    assert outputs[0].count("\n") == 21


def test_negative_zero_is_shown_as_zero() -> None:
    lms = who_lms("weianthro", 1, "400")
    (row,) = compute_rows([{"sex": 1, "age_days": 400, "weight_kg": lms[1] * 0.99999}])
    assert row["zwei"] == 0.0 and str(row["zwei"]) == "0.0"


def test_api_row_limit() -> None:
    row = {"sex": "1", "age_days": "100", "weight_kg": "5"}
    assert len(compute_rows([row] * MAX_API_ROWS)) == MAX_API_ROWS
    with pytest.raises(CsvFormatError) as info:
        compute_rows([row] * (MAX_API_ROWS + 1))
    assert info.value.code == "too_many_rows"
