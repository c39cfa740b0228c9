"""The regency extract file Dukcapil hands over: which columns, how coded (pure).

One row per person, a header row with the field names of DOMAIN.md. Accepted:

- required: NIK, NO_KK, NAMA_LGKP, TGL_LHR, JENIS_KLMIN, NO_PROP, NO_KAB, NO_KEC, NO_KEL;
- optional: TMPT_LHR, AGAMA, STATUS_KAWIN, STAT_HBKEL, NAMA_LGKP_IBU, NIK_IBU, PDDK_AKH,
  JENIS_PKRJN, ALAMAT, NO_RT, NO_RW, DUSUN, and a death date under one of
  ``DEATH_DATE_COLUMNS`` (TGL_MATI, TGL_KEMATIAN, …);
- any other column (GOL_DARAH, KAB_NAME, LAST_UPDATED, …) is read and ignored.

Header names are matched case-insensitively, spaces and dashes read as underscores.
The delimiter is the one of ``,``, ``;``, ``|`` or tab that the header uses most; UTF-8
text (a byte-order mark is ignored). Codes come as labels or numbers, mapped by
``mapping.from_dukcapil`` itself; dates as dd-mm-yyyy, dd.mm.yyyy, dd/mm/yyyy or
yyyy-mm-dd; region numbers unpadded (NO_KAB 4, NO_KEL 2007).
"""

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from services.registry.dukcapil.mapping import MappingError, from_dukcapil

REQUIRED_COLUMNS = (
    "NIK",
    "NO_KK",
    "NAMA_LGKP",
    "TGL_LHR",
    "JENIS_KLMIN",
    "NO_PROP",
    "NO_KAB",
    "NO_KEC",
    "NO_KEL",
)
OPTIONAL_COLUMNS = (
    "TMPT_LHR",
    "AGAMA",
    "STATUS_KAWIN",
    "STAT_HBKEL",
    "NAMA_LGKP_IBU",
    "NIK_IBU",
    "PDDK_AKH",
    "JENIS_PKRJN",
    "ALAMAT",
    "NO_RT",
    "NO_RW",
    "DUSUN",
)
DEATH_DATE = "TGL_MATI"
# No public SIAK extract layout names the death column; accept the usual spellings.
DEATH_DATE_COLUMNS = (DEATH_DATE, "TGL_KEMATIAN", "TANGGAL_KEMATIAN", "TGL_MENINGGAL", "DEATH_DATE")
KNOWN_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS + (DEATH_DATE,)
# Coded columns and the RegistryPerson attribute each one maps to.
CODED_COLUMNS = {
    "JENIS_KLMIN": "sex",
    "AGAMA": "religion",
    "STATUS_KAWIN": "marital_status",
    "STAT_HBKEL": "relationship",
    "PDDK_AKH": "education",
    "JENIS_PKRJN": "occupation",
}
_DELIMITERS = (",", ";", "|", "\t")
_HEAD_BYTES = 64 * 1024


class ExtractFormatError(ValueError):
    """The file as a whole cannot be read as an extract (nothing is imported)."""

    def __init__(self, code: str, message: dict[str, str], **detail: object) -> None:
        super().__init__(message["en"])
        self.code = code
        self.message = message
        self.detail = detail


@dataclass(frozen=True)
class ExtractLayout:
    delimiter: str
    headers: tuple[str, ...]  # as written in the file
    # Canonical name (a KNOWN_COLUMNS entry) -> position in the file.
    positions: dict[str, int]

    def position(self, column: str) -> int | None:
        return self.positions.get(column)


def canonical_header(name: str) -> str:
    key = name.strip().lstrip("\ufeff").strip().upper().replace(" ", "_").replace("-", "_")
    return DEATH_DATE if key in DEATH_DATE_COLUMNS else key


def layout_of_header(line: str) -> ExtractLayout:
    """Column layout from the header line; ``ExtractFormatError`` if it cannot be one."""
    delimiter = max(_DELIMITERS, key=line.count)
    if line.count(delimiter) == 0:
        raise ExtractFormatError(
            "extract_not_delimited",
            {
                "id": "Baris judul tidak memakai pemisah kolom (koma, titik koma, | atau tab).",
                "en": "The header row has no column delimiter (comma, semicolon, | or tab).",
            },
        )
    headers = tuple(next(csv.reader(io.StringIO(line), delimiter=delimiter)))
    positions: dict[str, int] = {}
    repeated = []
    for i, name in enumerate(headers):
        key = canonical_header(name)
        if key not in KNOWN_COLUMNS:
            continue
        if key in positions:
            repeated.append(key)
        positions[key] = i
    if repeated:
        raise ExtractFormatError(
            "extract_repeated_column",
            {
                "id": f"Kolom muncul lebih dari sekali: {', '.join(sorted(set(repeated)))}.",
                "en": f"Columns given more than once: {', '.join(sorted(set(repeated)))}.",
            },
            columns=sorted(set(repeated)),
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in positions]
    if missing:
        raise ExtractFormatError(
            "extract_missing_columns",
            {
                "id": f"Kolom wajib tidak ada: {', '.join(missing)}.",
                "en": f"Required columns are missing: {', '.join(missing)}.",
            },
            columns=missing,
        )
    return ExtractLayout(delimiter=delimiter, headers=headers, positions=positions)


def read_layout(path: Path) -> ExtractLayout:
    with path.open("rb") as f:
        head = f.read(_HEAD_BYTES)
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        # The cut may fall inside a character: only the first line matters here.
        text = head.decode("utf-8-sig", errors="ignore")
    first = text.splitlines()[0] if text.strip() else ""
    if not first:
        raise ExtractFormatError(
            "extract_empty",
            {"id": "Berkas kosong.", "en": "The file is empty."},
        )
    return layout_of_header(first)


def file_digest(path: Path) -> tuple[str, int]:
    """SHA-256 (hex) and size of a file, read in blocks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


# A record that maps cleanly; one coded field at a time is swapped in to read its code.
_PROBE = {
    "NIK": "6104010101000001",
    "NAMA_LGKP": "X",
    "TGL_LHR": "01-01-2000",
    "JENIS_KLMIN": "LAKI-LAKI",
    "NO_PROP": "61",
    "NO_KAB": "4",
    "NO_KEC": "1",
    "NO_KEL": "2001",
}


def code_of(column: str, raw: str) -> int | None:
    """The SIAK code of a label or number, exactly as ``from_dukcapil`` reads it."""
    try:
        person = from_dukcapil({**_PROBE, column: raw}).person
    except MappingError:
        return None
    return getattr(person, CODED_COLUMNS[column])


def code_map(column: str, raw_values: Iterable[str]) -> dict[str, int]:
    """Distinct raw values of a coded column -> code, leaving out what has none."""
    found = {}
    for raw in raw_values:
        code = code_of(column, raw)
        if code is not None:
            found[raw] = code
    return found


# Why a row was rejected: a stable code with its Indonesian and English text.
REJECT_REASONS: dict[str, dict[str, str]] = {
    "row_malformed": {
        "id": "Jumlah kolom baris tidak sama dengan baris judul.",
        "en": "The row does not have as many columns as the header.",
    },
    "nik_invalid": {"id": "NIK bukan 16 digit angka.", "en": "The NIK is not 16 digits."},
    "nik_province_unknown": {
        "id": "Kode provinsi pada NIK tidak dikenal.",
        "en": "The province code in the NIK does not exist.",
    },
    "nik_region_invalid": {
        "id": "Kode kabupaten atau kecamatan pada NIK bernilai 00.",
        "en": "The regency or district part of the NIK is 00.",
    },
    "nik_serial_zero": {
        "id": "Nomor urut NIK dimulai dari 0001.",
        "en": "The NIK serial starts at 0001.",
    },
    "nik_date_invalid": {
        "id": "Bagian tanggal lahir pada NIK bukan tanggal yang sah.",
        "en": "The birth-date part of the NIK is not a valid date.",
    },
    "nik_birth_date_mismatch": {
        "id": "Tanggal lahir pada NIK tidak sama dengan TGL_LHR.",
        "en": "The NIK's birth date does not match TGL_LHR.",
    },
    "nik_sex_mismatch": {
        "id": "Jenis kelamin tidak sesuai dengan NIK (perempuan: tanggal + 40).",
        "en": "The sex does not match the NIK (women: day + 40).",
    },
    "nik_duplicate": {
        "id": "NIK yang sama muncul lebih dari sekali dalam berkas.",
        "en": "The same NIK appears more than once in the file.",
    },
    "nik_in_two_kks": {
        "id": "NIK yang sama tercatat pada dua KK berbeda dalam berkas.",
        "en": "The same NIK is listed on two different family cards in the file.",
    },
    "kk_invalid": {
        "id": "Nomor KK bukan 16 digit angka.",
        "en": "The KK number is not 16 digits.",
    },
    "kk_province_unknown": {
        "id": "Kode provinsi pada nomor KK tidak dikenal.",
        "en": "The province code in the KK number does not exist.",
    },
    "kk_region_invalid": {
        "id": "Kode kabupaten atau kecamatan pada nomor KK bernilai 00.",
        "en": "The regency or district part of the KK number is 00.",
    },
    "kk_serial_zero": {
        "id": "Nomor urut KK dimulai dari 0001.",
        "en": "The KK serial starts at 0001.",
    },
    "kk_issue_date_invalid": {
        "id": "Tanggal terbit pada nomor KK tidak sah atau di masa depan.",
        "en": "The issue date in the KK number is not valid or in the future.",
    },
    "kk_region_mismatch": {
        "id": "Wilayah baris ini berbeda dengan wilayah KK-nya pada baris kepala keluarga.",
        "en": "This row's region differs from its family card's region (head's row).",
    },
    "name_missing": {"id": "NAMA_LGKP kosong.", "en": "NAMA_LGKP is empty."},
    "sex_invalid": {"id": "JENIS_KLMIN tidak dikenal.", "en": "JENIS_KLMIN is not known."},
    "birth_date_invalid": {
        "id": "TGL_LHR bukan tanggal yang sah.",
        "en": "TGL_LHR is not a valid date.",
    },
    "birth_date_in_future": {
        "id": "TGL_LHR ada di masa depan.",
        "en": "TGL_LHR is in the future.",
    },
    "death_date_invalid": {
        "id": "Tanggal kematian bukan tanggal yang sah.",
        "en": "The death date is not a valid date.",
    },
    "death_date_in_future": {
        "id": "Tanggal kematian ada di masa depan.",
        "en": "The death date is in the future.",
    },
    "death_before_birth": {
        "id": "Tanggal kematian sebelum tanggal lahir.",
        "en": "The death date is before the birth date.",
    },
    "region_invalid": {
        "id": "NO_PROP/NO_KAB/NO_KEC/NO_KEL tidak lengkap atau bukan angka yang sah.",
        "en": "NO_PROP/NO_KAB/NO_KEC/NO_KEL are missing or not valid numbers.",
    },
    "region_unknown": {
        "id": "Desa/kelurahan tidak ada dalam daftar wilayah.",
        "en": "The village is not in the region list.",
    },
    "region_outside_regency": {
        "id": "Desa/kelurahan di luar kabupaten/kota yang diimpor.",
        "en": "The village is outside the regency being imported.",
    },
}
