"""Reading a posyandu session file (docs/POSYANDU_CSV.md): headers, cells and row errors.

Pure: bytes in, typed columns and per-row errors out. Who the child is, and the z-scores,
are decided later against the registry (``service.upload_session``). Row numbers are
spreadsheet rows: the header is row 1, the first child row 2, blank lines counted.
"""

import csv
import io
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from services.registry.codelists import MEASUREMENT_PLACE
from services.registry.growth.validation import SEX_INVALID, SEX_MISSING, SEX_SPELLINGS, spelled

MAX_UPLOAD_ROWS = 10_000
# A session file of 10,000 rows is ~2 MB even from e-PPGBM's widest exports; the service's
# generic upload limit is sized for civil-registry extracts, far too large for this.
MAX_UPLOAD_BYTES = 8 * 1024 * 1024
DEFAULT_PLACE = "posyandu"

# Canonical column -> accepted headers, compared after folding case and punctuation to
# "_" ("Tgl Lahir" -> "tgl_lahir", "TB/PB" -> "tb_pb"). e-PPGBM exports use the
# Indonesian names; unknown columns (its z-score and status columns) are ignored.
ALIASES: dict[str, tuple[str, ...]] = {
    "person_id": ("person_id", "id_registrasi", "registry_id", "id_orang"),
    "nik": ("nik", "nik_anak", "no_nik"),
    "name": ("name", "nama", "nama_anak", "nama_balita"),
    "sex": ("sex", "jk", "jenis_kelamin", "l_p"),
    "birth_date": ("birth_date", "tgl_lahir", "tanggal_lahir"),
    "visit_date": (
        "visit_date",
        "tgl_ukur",
        "tanggal_ukur",
        "tgl_pengukuran",
        "tanggal_pengukuran",
        "tgl_kunjungan",
        "tanggal_kunjungan",
    ),
    "weight_kg": ("weight_kg", "weight", "bb", "bb_kg", "berat", "berat_badan"),
    "height_cm": (
        "height_cm",
        "length_cm",
        "height",
        "tb",
        "pb",
        "tb_pb",
        "pb_tb",
        "tb_cm",
        "tinggi",
        "tinggi_badan",
        "panjang_badan",
    ),
    "measure": ("measure", "cara_ukur", "posisi", "posisi_ukur"),
    "muac_cm": ("muac_cm", "muac", "lila", "lila_cm"),
    "head_cm": ("head_cm", "head", "lika", "lk", "lingkar_kepala"),
    "oedema": ("oedema", "edema"),
    "posyandu": ("posyandu", "posyandu_name", "nama_posyandu"),
    "place": ("place", "tempat", "tempat_ukur"),
}
_BY_ALIAS = {alias: name for name, aliases in ALIASES.items() for alias in aliases}
MEASUREMENT_COLUMNS = ("weight_kg", "height_cm", "head_cm", "muac_cm")
ENGINE_COLUMNS = (*MEASUREMENT_COLUMNS, "measure", "oedema")
# e-PPGBM writes the position as words; the engine reads l/h (and PB/TB).
MEASURE_WORDS = {
    "terlentang": "l",
    "telentang": "l",
    "berbaring": "l",
    "lying": "l",
    "recumbent": "l",
    "berdiri": "h",
    "standing": "h",
}

_FOLD = re.compile(r"[^0-9a-z]+")
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_NIK_NOISE = re.compile(r"[\s.\-']")


@dataclass(frozen=True)
class RowError:
    row: int
    column: str | None  # the header as written in the file
    field: str  # canonical column name
    code: str
    message: dict[str, str]

    def as_dict(self) -> dict[str, object]:
        return {
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "code": self.code,
            "message": self.message,
        }


class SheetError(ValueError):
    """The file as a whole cannot be read; nothing of it is stored."""

    def __init__(
        self, status: int, code: str, message: dict[str, str], columns: Sequence[str] = ()
    ) -> None:
        super().__init__(message["en"])
        self.status = status
        self.code = code
        self.message = message
        self.columns = list(columns)


@dataclass
class Sheet:
    """Typed key columns and raw measurement cells, one entry per child row."""

    headers: dict[str, str]  # canonical -> header as written
    ignored: list[str]
    rows: list[int]
    person_id: list[uuid.UUID | None]
    nik: list[str | None]
    name: list[str | None]
    sex: list[int | None]
    birth_date: list[date | None]
    visit_date: list[date | None]
    posyandu: list[str | None]
    place: list[str]
    cells: dict[str, list[str]]  # ENGINE_COLUMNS, raw
    errors: list[list[RowError]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)

    def error(self, i: int, name: str, code: str, message: dict[str, str]) -> None:
        self.errors[i].append(RowError(self.rows[i], self.headers.get(name), name, code, message))


def fold_header(header: str) -> str:
    return _FOLD.sub("_", header.strip().lstrip("\ufeff").casefold()).strip("_")


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM); Windows-1252 as spreadsheets on Windows save it."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SheetError(
        422,
        "encoding_invalid",
        {
            "en": "The file is not UTF-8 text; save it as CSV (UTF-8)",
            "id": "Berkas bukan teks UTF-8; simpan sebagai CSV (UTF-8)",
        },
    )


def _delimiter(header_line: str) -> str:
    # Spreadsheets set to Indonesian write ";" because "," is the decimal mark.
    return max((",", ";", "\t"), key=header_line.count)


def _map_headers(header: list[str]) -> tuple[dict[str, int], dict[str, str], list[str]]:
    positions: dict[str, int] = {}
    written: dict[str, str] = {}
    ignored: list[str] = []
    for i, raw in enumerate(header):
        name = _BY_ALIAS.get(fold_header(raw))
        if name is None:
            if raw.strip():
                ignored.append(raw.strip())
            continue
        if name in positions:
            raise SheetError(
                422,
                "duplicate_column",
                {
                    "en": f"Columns {written[name]!r} and {raw.strip()!r} both give {name}",
                    "id": f"Kolom {written[name]!r} dan {raw.strip()!r} sama-sama berisi {name}",
                },
                [name],
            )
        positions[name] = i
        written[name] = raw.strip()
    missing = []
    if "visit_date" not in positions:
        missing.append("visit_date")
    if "nik" not in positions and "person_id" not in positions:
        missing.append("nik|person_id")
    if not any(c in positions for c in MEASUREMENT_COLUMNS):
        missing.append("|".join(MEASUREMENT_COLUMNS))
    if missing:
        names = ", ".join(missing)
        raise SheetError(
            422,
            "missing_columns",
            {"en": f"Missing column(s): {names}", "id": f"Kolom tidak ada: {names}"},
            missing,
        )
    return positions, written, ignored


def _malformed(reason: str) -> SheetError:
    return SheetError(
        422,
        "malformed_csv",
        {
            "en": f"The file is not readable CSV: {reason}",
            "id": f"Berkas bukan CSV yang dapat dibaca: {reason}",
        },
    )


def _records(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    header_line = text.split("\n", 1)[0]
    if not header_line.strip():
        raise SheetError(
            422,
            "empty_file",
            {"en": "The file has no header row", "id": "Berkas tidak memiliki baris judul"},
        )
    if "\x00" in text:  # a spreadsheet (.xlsx) or other binary file sent as CSV
        raise _malformed("binary content")
    # strict: an unclosed quote is an error, not a row swallowing the rest of the file.
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=_delimiter(header_line), strict=True
    )
    try:
        header = next(reader)
        records = [(n, row) for n, row in enumerate(reader, start=2) if "".join(row).strip()]
    except csv.Error as exc:
        raise _malformed(str(exc)) from exc
    return header, records


@lru_cache(maxsize=4096)
def parse_date(text: str) -> date | None:
    """YYYY-MM-DD or DD/MM/YYYY (also with "-" or "."); None if not a valid date."""
    try:
        if (match := _DMY.match(text)) is not None:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        if len(text) == 10:
            return date.fromisoformat(text)
    except ValueError:
        pass
    return None


_DATE_INVALID = {
    "en": "Not a valid date (YYYY-MM-DD or DD/MM/YYYY)",
    "id": "Tanggal tidak valid (YYYY-MM-DD atau DD/MM/YYYY)",
}


def read_sheet(data: bytes, max_rows: int = MAX_UPLOAD_ROWS) -> Sheet:
    """Parse the file; raises :class:`SheetError` if it cannot be read as a whole."""
    header, records = _records(decode(data))
    positions, written, ignored = _map_headers(header)
    if len(records) > max_rows:
        raise SheetError(
            413,
            "too_many_rows",
            {
                "en": f"At most {max_rows:,} rows per upload; split the file",
                "id": f"Paling banyak {max_rows} baris per unggahan; bagi berkasnya",
            },
        )
    if not records:
        raise SheetError(
            422,
            "no_rows",
            {"en": "The file has no child rows", "id": "Berkas tidak berisi baris data anak"},
        )

    def column(name: str) -> list[str]:
        pos = positions.get(name)
        if pos is None:
            return [""] * len(records)
        return [row[pos].strip() if pos < len(row) else "" for _, row in records]

    n = len(records)
    sheet = Sheet(
        headers=written,
        ignored=ignored,
        rows=[number for number, _ in records],
        person_id=[None] * n,
        nik=[None] * n,
        name=[c or None for c in column("name")],
        sex=[None] * n,
        birth_date=[None] * n,
        visit_date=[None] * n,
        posyandu=[c[:200] or None for c in column("posyandu")],
        place=[DEFAULT_PLACE] * n,
        cells={
            name: [MEASURE_WORDS.get(c.casefold(), c) for c in column(name)]
            if name == "measure"
            else column(name)
            for name in ENGINE_COLUMNS
        },
        errors=[[] for _ in range(n)],
    )
    _parse_keys(sheet, column)
    return sheet


def _parse_keys(sheet: Sheet, column: Callable[[str], list[str]]) -> None:
    ids, niks, sexes = column("person_id"), column("nik"), column("sex")
    births, visits, places = column("birth_date"), column("visit_date"), column("place")
    for i in range(len(sheet)):
        if ids[i]:
            try:
                sheet.person_id[i] = uuid.UUID(ids[i])
            except ValueError:
                sheet.error(
                    i,
                    "person_id",
                    "person_id_invalid",
                    {"en": "Not a registry person id", "id": "Bukan id orang di registrasi"},
                )
        if niks[i]:
            digits = _NIK_NOISE.sub("", niks[i])
            if len(digits) == 16 and digits.isdigit():
                sheet.nik[i] = digits
            else:
                sheet.error(
                    i,
                    "nik",
                    "nik_invalid",
                    {
                        "en": "NIK must be 16 digits (format the column as text in the "
                        "spreadsheet so it keeps every digit)",
                        "id": "NIK harus 16 angka (format kolom sebagai teks di lembar kerja "
                        "agar semua angka tersimpan)",
                    },
                )
        elif not ids[i]:
            sheet.error(
                i,
                "nik" if "nik" in sheet.headers else "person_id",
                "person_missing",
                {
                    "en": "Give the child's NIK or registry id",
                    "id": "Isi NIK atau id registrasi anak",
                },
            )
        if sexes[i]:
            code = spelled(sexes[i], SEX_SPELLINGS, SEX_MISSING, SEX_INVALID)
            if code == SEX_INVALID:
                sheet.error(
                    i,
                    "sex",
                    "sex_invalid",
                    {
                        "en": "Unknown sex: use L or P (1/2, M/F)",
                        "id": "Jenis kelamin tidak dikenal: isi L atau P (1/2, M/F)",
                    },
                )
            else:
                sheet.sex[i] = code
        if births[i]:
            sheet.birth_date[i] = parse_date(births[i])
            if sheet.birth_date[i] is None:
                sheet.error(i, "birth_date", "date_invalid", _DATE_INVALID)
        if not visits[i]:
            sheet.error(
                i,
                "visit_date",
                "visit_date_missing",
                {"en": "The visit date is missing", "id": "Tanggal kunjungan kosong"},
            )
        else:
            sheet.visit_date[i] = parse_date(visits[i])
            if sheet.visit_date[i] is None:
                sheet.error(i, "visit_date", "date_invalid", _DATE_INVALID)
        if places[i]:
            entry = MEASUREMENT_PLACE.lookup(places[i])
            if entry is None:
                codes = "/".join(str(c) for c in MEASUREMENT_PLACE.codes())
                sheet.error(
                    i,
                    "place",
                    "place_invalid",
                    {
                        "en": f"Unknown place: use {codes}",
                        "id": f"Tempat tidak dikenal: isi {codes}",
                    },
                )
            else:
                sheet.place[i] = str(entry.code)
