"""Row errors and warnings: stable codes, the input field they concern, id/en messages.

A row with an error gets no z-score at all (it is sent back to be corrected); a warning
explains a z-score that is missing or was computed on a corrected input. The bulk path
carries them as bit masks, one bit per (code, field) kind, in the order listed here.
"""

from dataclasses import dataclass

from services.registry.growth.limits import LIMITS


@dataclass(frozen=True)
class Issue:
    code: str
    field: str
    message: dict[str, str]


def _range(field: str) -> str:
    low, high = LIMITS[field]
    return f"{low:g}–{high:g}"


ERRORS: tuple[Issue, ...] = (
    Issue("sex_missing", "sex", {"en": "Sex is missing", "id": "Jenis kelamin kosong"}),
    Issue(
        "sex_invalid",
        "sex",
        {
            "en": "Unknown sex: use 1/M/L for male or 2/F/P for female",
            "id": "Jenis kelamin tidak dikenal: isi 1/M/L untuk laki-laki "
            "atau 2/F/P untuk perempuan",
        },
    ),
    Issue(
        "age_missing",
        "age_days",
        {
            "en": "Age is missing: give birth_date and visit_date, or age_days",
            "id": "Umur kosong: isi birth_date dan visit_date, atau age_days",
        },
    ),
    Issue(
        "date_invalid",
        "birth_date",
        {
            "en": "Birth date is not a valid date (YYYY-MM-DD or DD/MM/YYYY)",
            "id": "Tanggal lahir tidak valid (YYYY-MM-DD atau DD/MM/YYYY)",
        },
    ),
    Issue(
        "date_invalid",
        "visit_date",
        {
            "en": "Visit date is not a valid date (YYYY-MM-DD or DD/MM/YYYY)",
            "id": "Tanggal kunjungan tidak valid (YYYY-MM-DD atau DD/MM/YYYY)",
        },
    ),
    Issue(
        "visit_before_birth",
        "visit_date",
        {
            "en": "Visit date is before the birth date",
            "id": "Tanggal kunjungan sebelum tanggal lahir",
        },
    ),
    Issue(
        "age_negative",
        "age_days",
        {"en": "Age in days is negative", "id": "Umur dalam hari bernilai negatif"},
    ),
    Issue(
        "age_60_months_or_more",
        "age_days",
        {
            "en": "Child is 60 months or older: WHO 2006 standards cover 0–59 months only",
            "id": "Anak berumur 60 bulan atau lebih: standar WHO 2006 hanya untuk 0–59 bulan",
        },
    ),
    Issue(
        "not_a_number",
        "age_days",
        {"en": "Age in days is not a number", "id": "Umur (hari) bukan angka"},
    ),
    Issue(
        "not_a_number",
        "weight_kg",
        {"en": "Weight is not a number", "id": "Berat badan bukan angka"},
    ),
    Issue(
        "not_a_number",
        "height_cm",
        {"en": "Length/height is not a number", "id": "Panjang/tinggi badan bukan angka"},
    ),
    Issue(
        "not_a_number",
        "head_cm",
        {"en": "Head circumference is not a number", "id": "Lingkar kepala bukan angka"},
    ),
    Issue(
        "not_a_number",
        "muac_cm",
        {"en": "Arm circumference is not a number", "id": "Lingkar lengan atas bukan angka"},
    ),
    Issue(
        "weight_in_grams",
        "weight_kg",
        {
            "en": "Weight looks like grams: enter kilograms (e.g. 8.5, not 8500)",
            "id": "Berat badan tampaknya dalam gram: isi dalam kilogram (mis. 8,5 bukan 8500)",
        },
    ),
    Issue(
        "weight_out_of_range",
        "weight_kg",
        {
            "en": f"Weight must be {_range('weight_kg')} kg",
            "id": f"Berat badan harus {_range('weight_kg')} kg",
        },
    ),
    Issue(
        "height_in_mm",
        "height_cm",
        {
            "en": "Length/height looks like millimetres: enter centimetres (e.g. 72.5, not 725)",
            "id": "Panjang/tinggi badan tampaknya dalam milimeter: isi dalam cm "
            "(mis. 72,5 bukan 725)",
        },
    ),
    Issue(
        "height_out_of_range",
        "height_cm",
        {
            "en": f"Length/height must be {_range('height_cm')} cm",
            "id": f"Panjang/tinggi badan harus {_range('height_cm')} cm",
        },
    ),
    Issue(
        "head_in_mm",
        "head_cm",
        {
            "en": "Head circumference looks like millimetres: enter centimetres",
            "id": "Lingkar kepala tampaknya dalam milimeter: isi dalam cm",
        },
    ),
    Issue(
        "head_out_of_range",
        "head_cm",
        {
            "en": f"Head circumference must be {_range('head_cm')} cm",
            "id": f"Lingkar kepala harus {_range('head_cm')} cm",
        },
    ),
    Issue(
        "muac_in_mm",
        "muac_cm",
        {
            "en": "Arm circumference looks like millimetres: enter centimetres "
            "(e.g. 13.5, not 135)",
            "id": "Lingkar lengan atas tampaknya dalam milimeter: isi dalam cm "
            "(mis. 13,5 bukan 135)",
        },
    ),
    Issue(
        "muac_out_of_range",
        "muac_cm",
        {
            "en": f"Arm circumference must be {_range('muac_cm')} cm",
            "id": f"Lingkar lengan atas harus {_range('muac_cm')} cm",
        },
    ),
    Issue(
        "measure_invalid",
        "measure",
        {
            "en": "Position must be l (lying) or h (standing)",
            "id": "Posisi ukur harus l (berbaring/PB) atau h (berdiri/TB)",
        },
    ),
    Issue(
        "oedema_invalid",
        "oedema",
        {"en": "Oedema must be y or n", "id": "Edema harus y (ya) atau n (tidak)"},
    ),
    Issue(
        "no_measurement",
        "measurements",
        {
            "en": "No weight, length/height, head or arm circumference given",
            "id": "Tidak ada berat, panjang/tinggi, lingkar kepala atau lingkar lengan",
        },
    ),
)

WARNINGS: tuple[Issue, ...] = (
    Issue(
        "standing_under_9_months",
        "measure",
        {
            "en": "Measured standing under 9 months: implausible, "
            "treated as lying without adjustment",
            "id": "Diukur berdiri pada umur di bawah 9 bulan: tidak wajar, "
            "dianggap berbaring tanpa koreksi",
        },
    ),
    Issue(
        "wfl_out_of_table",
        "height_cm",
        {
            "en": "Length outside the weight-for-length table (45–110 cm): not computed",
            "id": "Panjang badan di luar tabel BB/PB (45–110 cm): tidak dihitung",
        },
    ),
    Issue(
        "wfh_out_of_table",
        "height_cm",
        {
            "en": "Height outside the weight-for-height table (65–120 cm): not computed",
            "id": "Tinggi badan di luar tabel BB/TB (65–120 cm): tidak dihitung",
        },
    ),
    Issue(
        "muac_under_3_months",
        "muac_cm",
        {
            "en": "Arm circumference-for-age starts at 3 months (91 days): not computed",
            "id": "LiLA menurut umur mulai umur 3 bulan (91 hari): tidak dihitung",
        },
    ),
    Issue(
        "oedema_weight_not_scored",
        "oedema",
        {
            "en": "Oedema: weight-based z-scores are not computed; counted as severe",
            "id": "Edema: z-score berbasis berat tidak dihitung; dihitung sebagai berat/buruk",
        },
    ),
)


def _bits(issues: tuple[Issue, ...]) -> dict[tuple[str, str], int]:
    return {(issue.code, issue.field): 1 << i for i, issue in enumerate(issues)}


ERROR_BITS = _bits(ERRORS)
WARNING_BITS = _bits(WARNINGS)


def decode(mask: int, issues: tuple[Issue, ...]) -> tuple[Issue, ...]:
    """The issues whose bits are set in ``mask``, in catalogue order."""
    return tuple(issue for i, issue in enumerate(issues) if mask >> i & 1)


def decode_errors(mask: int) -> tuple[Issue, ...]:
    return decode(mask, ERRORS)


def decode_warnings(mask: int) -> tuple[Issue, ...]:
    return decode(mask, WARNINGS)
