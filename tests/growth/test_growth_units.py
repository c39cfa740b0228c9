"""Pure pieces of the growth module, without a database: reading a posyandu file,
the name cross-check, and the chart's reference curves."""

import pytest

from services.registry.growth.charts import ChartPoint, chart_curves, growth_chart
from services.registry.growth.rules import names_agree
from services.registry.growth.upload import SheetError, fold_header, read_sheet
from tests.unit.growth.growth_expect import sd_value, who_lms


@pytest.mark.parametrize(
    ("typed", "registered", "agree"),
    [
        (None, "Bayu Sintetis", True),
        ("", "Bayu Sintetis", True),
        ("bayu", "Bayu Sintetis", True),
        ("M. Rizki", "Muhammad Rizki", True),
        ("Nuraini", "Nur Aini", True),
        ("Sintetis Bayu", "Bayu Sintetis", True),
        ("Rizki", "Bayu Sintetis", False),
        ("Zainal", "Eka Sintetis", False),
    ],
)
def test_names_agree(typed, registered, agree):
    assert names_agree(typed, registered) is agree


def test_headers_fold_to_canonical_names():
    assert fold_header("\ufeffTgl Lahir ") == "tgl_lahir"
    assert fold_header("TB/PB (cm)") == "tb_pb_cm"


def test_read_sheet_rows_cells_and_errors():
    text = (
        "NIK;Nama;JK;Tgl Ukur;BB;Cara Ukur;Tempat;Kolom Lain\n"
        "6104160512230003;Rizki;L;10/02/2025;9,1;Terlentang;puskesmas;x\n"
        "\n"
        "6104;Ani;Q;2025-02-31;8;berdiri;pasar;y\n"
    ).encode("cp1252")
    sheet = read_sheet(text)
    assert sheet.rows == [2, 4]  # the blank line keeps spreadsheet numbering
    assert sheet.ignored == ["Kolom Lain"]
    assert sheet.nik == ["6104160512230003", None]
    assert sheet.sex == [1, None]
    assert str(sheet.visit_date[0]) == "2025-02-10" and sheet.visit_date[1] is None
    assert sheet.cells["weight_kg"] == ["9,1", "8"]
    assert sheet.cells["measure"] == ["l", "h"]
    assert sheet.place == ["puskesmas", "posyandu"]
    assert sheet.errors[0] == []
    assert sorted((e.row, e.column, e.code) for e in sheet.errors[1]) == [
        (4, "JK", "sex_invalid"),
        (4, "NIK", "nik_invalid"),
        (4, "Tempat", "place_invalid"),
        (4, "Tgl Ukur", "date_invalid"),
    ]


@pytest.mark.parametrize(
    ("text", "code", "columns"),
    [
        ("nama,bb\nx,1\n", "missing_columns", ["visit_date", "nik|person_id"]),
        (
            "nik,tgl_ukur,nama\n1,2025-01-01,x\n",
            "missing_columns",
            ["weight_kg|height_cm|head_cm|muac_cm"],
        ),
        ("nik,tgl_ukur,bb,berat\n1,2,3,4\n", "duplicate_column", ["weight_kg"]),
        ("nik,tgl_ukur,bb\n", "no_rows", []),
        ('nik,tgl_ukur,bb\n"1,2,3\n', "malformed_csv", []),
    ],
)
def test_unreadable_files(text, code, columns):
    with pytest.raises(SheetError) as caught:
        read_sheet(text.encode())
    assert caught.value.code == code and caught.value.columns == columns
    assert set(caught.value.message) == {"id", "en"}


def test_too_many_rows_is_413():
    text = "nik,tgl_ukur,bb\n" + "1,2025-01-01,9\n" * 11
    with pytest.raises(SheetError) as caught:
        read_sheet(text.encode(), max_rows=10)
    assert (caught.value.status, caught.value.code) == (413, "too_many_rows")


def test_reference_curves_are_the_lms_values_at_z():
    curves = chart_curves("lhfa", 1, latest_age_days=400)
    assert curves.x[-1] == pytest.approx(24.0, abs=0.04)  # a child under 2: 0-24 months
    day = 400
    for z in (-3.0, -2.0, 0.0, 2.0, 3.0):
        assert curves.by_z[z][day] == pytest.approx(
            sd_value(z, who_lms("lenanthro", 1, str(day))), rel=1e-12
        )
    wfh = chart_curves("wflh", 2, latest_age_days=800)
    assert wfh.x[0] == 65.0 and wfh.x[-1] == 120.0
    assert wfh.by_z[0.0][0] == pytest.approx(who_lms("wfhanthro", 2, "65")[1])
    assert chart_curves("wfa", 2, latest_age_days=1500).x[-1] == pytest.approx(60.0, abs=0.04)


def test_chart_is_repeatable_and_names_only_when_given():
    points = [ChartPoint(13.9, 70.2), ChartPoint(14.9, 71.0, flagged=True)]
    one = growth_chart("lhfa", 1, points, latest_age_days=455, child_name="Bayu S.")
    two = growth_chart("lhfa", 1, points, latest_age_days=455, child_name="Bayu S.")
    assert one == two and b"Bayu S." in one
    anonymous = growth_chart("lhfa", 1, points, latest_age_days=455, lang="en")
    assert b"Bayu" not in anonymous and b"Length/height-for-age" in anonymous
    png = growth_chart("bmi", 2, [], latest_age_days=30, fmt="png")
    assert png.startswith(b"\x89PNG")
