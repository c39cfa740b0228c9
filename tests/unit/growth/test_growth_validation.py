"""Bad input gives per-row errors with a code, a field and id/en messages; never a crash."""

import pytest

from services.registry.growth.csv_io import compute_rows
from services.registry.growth.issues import ERRORS, WARNINGS
from services.registry.growth.models import MeasurementInput
from services.registry.growth.zscores import compute_zscores


def errors_of(**kwargs: object) -> list[tuple[str, str]]:
    base: dict[str, object] = {"sex": 1, "age_days": 400, "weight_kg": 9.0, "height_cm": 75.0}
    base.update(kwargs)
    result = compute_zscores(MeasurementInput(**base))  # type: ignore[arg-type]
    if result.errors:
        assert result.zlen is None and result.zwei is None and result.class_len is None
    return [(e.code, e.field) for e in result.errors]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"weight_kg": 8500}, ("weight_in_grams", "weight_kg")),
        ({"weight_kg": -1}, ("weight_out_of_range", "weight_kg")),
        ({"weight_kg": 0}, ("weight_out_of_range", "weight_kg")),
        ({"weight_kg": 75}, ("weight_out_of_range", "weight_kg")),
        ({"weight_kg": float("inf")}, ("weight_out_of_range", "weight_kg")),
        ({"height_cm": 725}, ("height_in_mm", "height_cm")),
        ({"height_cm": 20}, ("height_out_of_range", "height_cm")),
        ({"height_cm": 2000}, ("height_out_of_range", "height_cm")),
        ({"head_cm": 450}, ("head_in_mm", "head_cm")),
        ({"muac_cm": 135}, ("muac_in_mm", "muac_cm")),
        ({"muac_cm": 2}, ("muac_out_of_range", "muac_cm")),
        ({"sex": 3}, ("sex_invalid", "sex")),
        ({"sex": "X"}, ("sex_invalid", "sex")),
        ({"sex": True}, ("sex_invalid", "sex")),
        ({"oedema": "maybe"}, ("oedema_invalid", "oedema")),
        ({"sex": None}, ("sex_missing", "sex")),
        ({"age_days": None}, ("age_missing", "age_days")),
        ({"age_days": -1}, ("age_negative", "age_days")),
        ({"age_days": 1827}, ("age_60_months_or_more", "age_days")),
        ({"measure": "x"}, ("measure_invalid", "measure")),
        ({"weight_kg": "abc"}, ("not_a_number", "weight_kg")),
        ({"weight_kg": None, "height_cm": None}, ("no_measurement", "measurements")),
    ],
)
def test_single_row_errors(kwargs: dict, expected: tuple[str, str]) -> None:
    assert errors_of(**kwargs) == [expected]


def test_several_errors_are_all_reported() -> None:
    assert errors_of(sex=9, weight_kg=9000, measure="z") == [
        ("sex_invalid", "sex"),
        ("weight_in_grams", "weight_kg"),
        ("measure_invalid", "measure"),
    ]


def test_a_valid_row_has_no_errors() -> None:
    assert errors_of() == []
    # the table spellings are accepted for a single row too
    assert errors_of(sex="P", measure="PB", oedema="tidak") == []
    yes = compute_zscores(MeasurementInput(sex="L", age_days=400, weight_kg=9.0, oedema="y"))
    assert yes.ok and yes.zwei is None


ROW = {
    "sex": "1",
    "birth_date": "2024-01-10",
    "visit_date": "2025-02-10",
    "weight_kg": "9",
    "height_cm": "75",
}


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"visit_date": "2023-12-31"}, "visit_before_birth:visit_date"),
        ({"birth_date": "2024-13-01"}, "date_invalid:birth_date"),
        ({"birth_date": "2024"}, "date_invalid:birth_date"),  # not read as 2024-01-01
        ({"visit_date": "31/02/2025"}, "date_invalid:visit_date"),
        ({"weight_kg": "abc"}, "not_a_number:weight_kg"),
        ({"weight_kg": "nan"}, "not_a_number:weight_kg"),
        ({"height_cm": "7O"}, "not_a_number:height_cm"),
        ({"sex": "X"}, "sex_invalid:sex"),
        ({"sex": ""}, "sex_missing:sex"),
        ({"oedema": "maybe"}, "oedema_invalid:oedema"),
        ({"birth_date": "", "visit_date": ""}, "age_missing:age_days"),
        ({"birth_date": "2019-01-01"}, "age_60_months_or_more:age_days"),
        ({"weight_kg": "8500"}, "weight_in_grams:weight_kg"),
    ],
)
def test_table_row_errors(change: dict, error: str) -> None:
    (row,) = compute_rows([{**ROW, **change}], lang="en")
    assert row["error"] == error
    assert row["error_message"]
    assert row["zlen"] is None and row["class_len"] is None


@pytest.mark.parametrize(
    "change",
    [
        {"sex": "L"},
        {"sex": "m"},
        {"sex": "P"},
        {"sex": 2},
        {"weight_kg": "9,0"},
        {"birth_date": "10/01/2024"},
        {"oedema": "tidak"},
        {"measure": "PB"},
        {"birth_date": None, "visit_date": None, "age_days": "397"},
    ],
)
def test_accepted_spellings(change: dict) -> None:
    (row,) = compute_rows([{**ROW, **change}])
    assert row["error"] == ""
    assert row["zlen"] is not None


def test_error_messages_are_bilingual_and_keys_unique() -> None:
    for catalogue in (ERRORS, WARNINGS):
        keys = [(i.code, i.field) for i in catalogue]
        assert len(keys) == len(set(keys))
        for issue in catalogue:
            assert set(issue.message) == {"id", "en"} and all(issue.message.values())
    (row,) = compute_rows([{**ROW, "weight_kg": "8500"}], lang="id")
    assert "gram" in str(row["error_message"])
