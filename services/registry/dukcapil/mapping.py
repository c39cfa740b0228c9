"""Dukcapil person records <-> registry person fields, and their comparison (pure).

Dukcapil (SIAK) records use the field names of DOMAIN.md: uppercase labels ("ISLAM",
"KAWIN", "LAKI-LAKI"), dates as dd-mm-yyyy or dd.mm.yyyy, region numbers unpadded
(NO_KAB 4, NO_KEL 2007). Codes are accepted as labels or numbers (``4``, ``"04"``,
``"ANAK"``). A record that lacks what identifies a person (NIK, name, birth date, sex,
region) raises ``MappingError``; an unreadable optional field becomes ``None`` plus a
``MappingIssue``, so one odd label does not drop a person from a bulk extract.

The label tables below are private stand-ins for ``services/registry/codelists.py``,
written in parallel; they use the same SIAK numbers and should be folded into it.
"""

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

NIK_LENGTH = 16
MALE, FEMALE = 1, 2
_EMPTY = {"", "-", "--", "NULL", "NONE"}


def _label_key(text: str) -> str:
    # Sources differ in spacing and punctuation ("BELUM / TIDAK BEKERJA", "DPR-RI"), but
    # "DIPLOMA I/II" and "DIPLOMA III" must stay apart: punctuation becomes one space.
    cleaned = unicodedata.normalize("NFKC", text).upper()
    return " ".join(re.sub(r"[^0-9A-Z]+", " ", cleaned).split())


class _CodeTable:
    """SIAK code <-> uppercase label, with known variant spellings."""

    def __init__(self, name: str, labels: dict[int, str], aliases: dict[str, int]) -> None:
        self.name = name
        self._labels = labels
        self._by_key = {_label_key(label): code for code, label in labels.items()}
        self._by_key.update({_label_key(alias): code for alias, code in aliases.items()})

    def code_of(self, value: Any) -> int | None:
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value if value in self._labels else None
        text = str(value).strip()
        if text.isdigit():
            return int(text) if int(text) in self._labels else None
        return self._by_key.get(_label_key(text))

    def label_of(self, code: int | None) -> str:
        return "" if code is None else self._labels.get(code, "")


_SEX = _CodeTable(
    "sex",
    {MALE: "LAKI-LAKI", FEMALE: "PEREMPUAN"},
    {"L": MALE, "LK": MALE, "PRIA": MALE, "P": FEMALE, "PR": FEMALE, "WANITA": FEMALE},
)
_RELIGION = _CodeTable(
    "religion",
    {
        1: "ISLAM",
        2: "KRISTEN",
        3: "KATHOLIK",
        4: "HINDU",
        5: "BUDHA",
        6: "KHONGHUCU",
        7: "KEPERCAYAAN TERHADAP TUHAN YME",
    },
    {
        "KRISTEN PROTESTAN": 2,
        "PROTESTAN": 2,
        "KATOLIK": 3,
        "BUDDHA": 5,
        "KONGHUCU": 6,
        "KONG HU CU": 6,
        "KEPERCAYAAN": 7,
        "PENGHAYAT KEPERCAYAAN": 7,
    },
)
_MARITAL_STATUS = _CodeTable(
    "marital_status",
    {1: "BELUM KAWIN", 2: "KAWIN", 3: "CERAI HIDUP", 4: "CERAI MATI"},
    # Newer KK prints add whether the marriage or divorce is registered (tercatat).
    {
        "KAWIN TERCATAT": 2,
        "KAWIN BELUM TERCATAT": 2,
        "KAWIN TIDAK TERCATAT": 2,
        "CERAI HIDUP TERCATAT": 3,
        "CERAI HIDUP BELUM TERCATAT": 3,
        "CERAI HIDUP TIDAK TERCATAT": 3,
    },
)
_RELATIONSHIP = _CodeTable(
    "relationship",
    {
        1: "KEPALA KELUARGA",
        2: "SUAMI",
        3: "ISTRI",
        4: "ANAK",
        5: "MENANTU",
        6: "CUCU",
        7: "ORANGTUA",
        8: "MERTUA",
        9: "FAMILI LAIN",
        10: "PEMBANTU",
        11: "LAINNYA",
    },
    {"ORANG TUA": 7, "KEPALA RUMAH TANGGA": 1, "FAMILI": 9},
)
_EDUCATION = _CodeTable(
    "education",
    {
        1: "TIDAK/BELUM SEKOLAH",
        2: "BELUM TAMAT SD/SEDERAJAT",
        3: "TAMAT SD/SEDERAJAT",
        4: "SLTP/SEDERAJAT",
        5: "SLTA/SEDERAJAT",
        6: "DIPLOMA I/II",
        7: "AKADEMI/DIPLOMA III/S. MUDA",
        8: "DIPLOMA IV/STRATA I",
        9: "STRATA II",
        10: "STRATA III",
    },
    {
        "BELUM TAMAT SD": 2,
        "TAMAT SD": 3,
        "SLTP": 4,
        "SLTA": 5,
        "DIPLOMA III": 7,
        "AKADEMI/DIPLOMA III/SARJANA MUDA": 7,
        "STRATA I": 8,
    },
)
# SIAK JENIS_PKRJN. Numbering as reproduced identically by several public SIAK-derived
# databases (e.g. a Disdukcapil statistics page's code table); not an official list.
_OCCUPATION_LABELS = (
    "BELUM/TIDAK BEKERJA",
    "MENGURUS RUMAH TANGGA",
    "PELAJAR/MAHASISWA",
    "PENSIUNAN",
    "PEGAWAI NEGERI SIPIL",
    "TENTARA NASIONAL INDONESIA",
    "KEPOLISIAN RI",
    "PERDAGANGAN",
    "PETANI/PEKEBUN",
    "PETERNAK",
    "NELAYAN/PERIKANAN",
    "INDUSTRI",
    "KONSTRUKSI",
    "TRANSPORTASI",
    "KARYAWAN SWASTA",
    "KARYAWAN BUMN",
    "KARYAWAN BUMD",
    "KARYAWAN HONORER",
    "BURUH HARIAN LEPAS",
    "BURUH TANI/PERKEBUNAN",
    "BURUH NELAYAN/PERIKANAN",
    "BURUH PETERNAKAN",
    "PEMBANTU RUMAH TANGGA",
    "TUKANG CUKUR",
    "TUKANG LISTRIK",
    "TUKANG BATU",
    "TUKANG KAYU",
    "TUKANG SOL SEPATU",
    "TUKANG LAS/PANDAI BESI",
    "TUKANG JAHIT",
    "TUKANG GIGI",
    "PENATA RIAS",
    "PENATA BUSANA",
    "PENATA RAMBUT",
    "MEKANIK",
    "SENIMAN",
    "TABIB",
    "PARAJI",
    "PERANCANG BUSANA",
    "PENTERJEMAH",
    "IMAM MASJID",
    "PENDETA",
    "PASTOR",
    "WARTAWAN",
    "USTADZ/MUBALIGH",
    "JURU MASAK",
    "PROMOTOR ACARA",
    "ANGGOTA DPR-RI",
    "ANGGOTA DPD",
    "ANGGOTA BPK",
    "PRESIDEN",
    "WAKIL PRESIDEN",
    "ANGGOTA MAHKAMAH KONSTITUSI",
    "ANGGOTA KABINET/KEMENTERIAN",
    "DUTA BESAR",
    "GUBERNUR",
    "WAKIL GUBERNUR",
    "BUPATI",
    "WAKIL BUPATI",
    "WALIKOTA",
    "WAKIL WALIKOTA",
    "ANGGOTA DPRD PROVINSI",
    "ANGGOTA DPRD KABUPATEN/KOTA",
    "DOSEN",
    "GURU",
    "PILOT",
    "PENGACARA",
    "NOTARIS",
    "ARSITEK",
    "AKUNTAN",
    "KONSULTAN",
    "DOKTER",
    "BIDAN",
    "PERAWAT",
    "APOTEKER",
    "PSIKIATER/PSIKOLOG",
    "PENYIAR TELEVISI",
    "PENYIAR RADIO",
    "PELAUT",
    "PENELITI",
    "SOPIR",
    "PIALANG",
    "PARANORMAL",
    "PEDAGANG",
    "PERANGKAT DESA",
    "KEPALA DESA",
    "BIARAWATI",
    "WIRASWASTA",
    "LAINNYA",
)
_OCCUPATION = _CodeTable(
    "occupation",
    dict(enumerate(_OCCUPATION_LABELS, start=1)),
    {
        "PNS": 5,
        "PEGAWAI NEGERI SIPIL (PNS)": 5,
        "TNI": 6,
        "TENTARA NASIONAL INDONESIA (TNI)": 6,
        "POLRI": 7,
        "KEPOLISIAN RI (POLRI)": 7,
        "NELAYAN": 11,
        "PETANI": 9,
        "PENERJEMAH": 40,
        "IMAM MESJID": 41,
        "PASTUR": 43,
        "USTAZ/MUBALIGH": 45,
        "UZTADZ/MUBALIGH": 45,
        "ANGGOTA DPRD PROPINSI": 62,
        "BIARAWAN/BIARAWATI": 87,
        "SUPIR": 81,
        "PEKERJAAN LAINNYA": 89,
    },
)


@dataclass(frozen=True)
class RegistryPerson:
    """The registry's view of a person as far as Dukcapil knows it."""

    nik: str | None
    kk_number: str | None
    full_name: str
    birth_place: str | None
    birth_date: date
    sex: int  # 1 male, 2 female
    religion: int | None
    marital_status: int | None
    relationship: int | None  # SHDK
    education: int | None
    occupation: int | None
    mother_nik: str | None
    mother_name: str | None
    village_code: str  # dotted, "61.04.16.2007"
    rt: int | None
    rw: int | None
    dusun: str | None
    address: str | None


@dataclass(frozen=True)
class MappingIssue:
    """An optional field that could not be read; ``value`` is withheld for identifiers."""

    field: str  # the Dukcapil field name
    code: str
    message: dict[str, str]
    value: str | None


@dataclass(frozen=True)
class MappedPerson:
    person: RegistryPerson
    last_updated: datetime | None
    issues: tuple[MappingIssue, ...] = ()


class MappingError(ValueError):
    """The record lacks or garbles a field that identifies the person."""

    def __init__(self, field: str, code: str, message: dict[str, str]) -> None:
        super().__init__(f"{field}: {message['en']}")
        self.field = field
        self.code = code
        self.message = message


@dataclass(frozen=True)
class FieldDifference:
    field: str  # a RegistryPerson field name
    registry_value: Any
    dukcapil_value: Any


_IDENTIFIER_FIELDS = {"NIK", "NO_KK", "NIK_IBU"}


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().upper() in _EMPTY)


def _text(value: Any) -> str | None:
    return None if _is_empty(value) else " ".join(str(value).split())


def _identifier(value: Any) -> str | None:
    """A 16-digit NIK/KK number from text or a JSON number; None when not one."""
    if _is_empty(value) or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text if len(text) == NIK_LENGTH and text.isdigit() and text.isascii() else None


def parse_dukcapil_date(value: Any) -> date | None:
    """dd-mm-yyyy, dd.mm.yyyy or dd/mm/yyyy (as sent by Dukcapil), or ISO yyyy-mm-dd."""
    if _is_empty(value):
        return None
    text = str(value).strip().split(" ")[0].split("T")[0]
    try:
        if m := re.fullmatch(r"(\d{1,2})[-./](\d{1,2})[-./](\d{4})", text):
            return date(int(m[3]), int(m[2]), int(m[1]))
        if m := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text):
            return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None
    return None


def _parse_timestamp(value: Any) -> datetime | None:
    text = str(value).strip()
    for pattern in ("%d-%m-%Y %H:%M:%S", "%d.%m.%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        day = parse_dukcapil_date(text)
        return None if day is None else datetime(day.year, day.month, day.day)


def _number(value: Any) -> int | None:
    if _is_empty(value) or isinstance(value, bool):
        return None
    text = str(value).strip()
    return int(text) if text.isdigit() else None


def village_code_from_parts(prop: Any, kab: Any, kec: Any, kel: Any) -> str | None:
    """Dotted village code from Dukcapil's unpadded NO_PROP/NO_KAB/NO_KEC/NO_KEL."""
    parts = [_number(v) for v in (prop, kab, kec, kel)]
    if any(p is None for p in parts):
        return None
    p, k, c, v = parts
    if not (11 <= p <= 99 and 1 <= k <= 99 and 1 <= c <= 99 and 1001 <= v <= 3999):
        return None
    return f"{p:02d}.{k:02d}.{c:02d}.{v:04d}"


def _issue(field: str, code: str, id_text: str, en_text: str, value: Any) -> MappingIssue:
    shown = None if field in _IDENTIFIER_FIELDS or value is None else str(value)
    return MappingIssue(field=field, code=code, message={"id": id_text, "en": en_text}, value=shown)


def _required(field: str, id_text: str, en_text: str) -> MappingError:
    return MappingError(field, f"dukcapil_{field.lower()}_invalid", {"id": id_text, "en": en_text})


def from_dukcapil(record: Mapping[str, Any]) -> MappedPerson:
    """Registry fields of one Dukcapil person record (CALL_NIK answer or extract row)."""
    issues: list[MappingIssue] = []

    nik = _identifier(record.get("NIK"))
    if nik is None:
        raise _required(
            "NIK", "NIK tidak ada atau bukan 16 digit.", "NIK missing or not 16 digits."
        )
    full_name = _text(record.get("NAMA_LGKP"))
    if full_name is None:
        raise _required("NAMA_LGKP", "Nama lengkap kosong.", "Full name is empty.")
    birth_date = parse_dukcapil_date(record.get("TGL_LHR"))
    if birth_date is None:
        raise _required("TGL_LHR", "Tanggal lahir tidak terbaca.", "Birth date cannot be read.")
    sex = _SEX.code_of(record.get("JENIS_KLMIN"))
    if sex is None:
        raise _required("JENIS_KLMIN", "Jenis kelamin tidak dikenal.", "Unknown sex.")
    village_code = village_code_from_parts(
        record.get("NO_PROP"), record.get("NO_KAB"), record.get("NO_KEC"), record.get("NO_KEL")
    )
    if village_code is None:
        raise _required(
            "NO_KEL",
            "Kode wilayah (NO_PROP/NO_KAB/NO_KEC/NO_KEL) tidak lengkap atau tidak sah.",
            "Region numbers (NO_PROP/NO_KAB/NO_KEC/NO_KEL) are missing or invalid.",
        )

    def code(field: str, table: _CodeTable) -> int | None:
        raw = record.get(field)
        if _is_empty(raw):
            return None
        found = table.code_of(raw)
        if found is None:
            issues.append(
                _issue(
                    field,
                    f"dukcapil_unknown_{table.name}",
                    f"Nilai {field} tidak dikenal.",
                    f"Unknown {field} value.",
                    raw,
                )
            )
        return found

    def identifier(field: str) -> str | None:
        raw = record.get(field)
        found = _identifier(raw)
        if found is None and not _is_empty(raw) and str(raw).strip() != "0":
            issues.append(
                _issue(
                    field,
                    "dukcapil_bad_identifier",
                    f"{field} bukan 16 digit.",
                    f"{field} is not 16 digits.",
                    raw,
                )
            )
        return found

    def rt_rw(field: str) -> int | None:
        raw = record.get(field)
        number = _number(raw)
        if number is None and not _is_empty(raw):
            issues.append(
                _issue(
                    field,
                    "dukcapil_bad_number",
                    f"{field} bukan angka.",
                    f"{field} is not a number.",
                    raw,
                )
            )
        return number or None  # RT/RW 0 means none

    person = RegistryPerson(
        nik=nik,
        kk_number=identifier("NO_KK"),
        full_name=full_name,
        birth_place=_text(record.get("TMPT_LHR")),
        birth_date=birth_date,
        sex=sex,
        religion=code("AGAMA", _RELIGION),
        marital_status=code("STATUS_KAWIN", _MARITAL_STATUS),
        relationship=code("STAT_HBKEL", _RELATIONSHIP),
        education=code("PDDK_AKH", _EDUCATION),
        occupation=code("JENIS_PKRJN", _OCCUPATION),
        mother_nik=identifier("NIK_IBU"),
        mother_name=_text(record.get("NAMA_LGKP_IBU")),
        village_code=village_code,
        rt=rt_rw("NO_RT"),
        rw=rt_rw("NO_RW"),
        dusun=_text(record.get("DUSUN")),
        address=_text(record.get("ALAMAT")),
    )

    last_updated = None
    raw_updated = record.get("LAST_UPDATED")
    if not _is_empty(raw_updated):
        last_updated = _parse_timestamp(raw_updated)
        if last_updated is None:
            issues.append(
                _issue(
                    "LAST_UPDATED",
                    "dukcapil_bad_timestamp",
                    "LAST_UPDATED tidak terbaca.",
                    "LAST_UPDATED cannot be read.",
                    raw_updated,
                )
            )
    return MappedPerson(person=person, last_updated=last_updated, issues=tuple(issues))


def to_dukcapil(
    person: RegistryPerson,
    *,
    region_names: Mapping[str, str] | None = None,
    last_updated: datetime | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A Dukcapil-shaped record: uppercase labels, unpadded region numbers, dd-mm-yyyy.

    ``region_names`` maps dotted codes ("61", "61.04", ...) to names for PROP_NAME,
    KAB_NAME, KEC_NAME and KEL_NAME; ``extra`` adds or overrides fields the registry
    does not hold (GOL_DARAH, NAMA_LGKP_AYAH, EKTP_STATUS, ...).
    """
    names = region_names or {}
    prop, kab, kec, kel = person.village_code.split(".")
    codes = {
        "PROP": prop,
        "KAB": f"{prop}.{kab}",
        "KEC": f"{prop}.{kab}.{kec}",
        "KEL": person.village_code,
    }

    def upper(value: str | None) -> str:
        return "" if value is None else value.upper()

    record: dict[str, Any] = {
        "NIK": person.nik or "",
        "NO_KK": person.kk_number or "",
        "NAMA_LGKP": upper(person.full_name),
        "TMPT_LHR": upper(person.birth_place),
        "TGL_LHR": person.birth_date.strftime("%d-%m-%Y"),
        "JENIS_KLMIN": _SEX.label_of(person.sex),
        "GOL_DARAH": "TIDAK TAHU",
        "AGAMA": _RELIGION.label_of(person.religion),
        "STATUS_KAWIN": _MARITAL_STATUS.label_of(person.marital_status),
        "STAT_HBKEL": _RELATIONSHIP.label_of(person.relationship),
        "NAMA_LGKP_IBU": upper(person.mother_name),
        "NAMA_LGKP_AYAH": "",
        "NIK_IBU": person.mother_nik or "",
        "NIK_AYAH": "",
        "NO_AKTA_LHR": "",
        "PDDK_AKH": _EDUCATION.label_of(person.education),
        "JENIS_PKRJN": _OCCUPATION.label_of(person.occupation),
        "PNYDNG_CCT": "",
        "ALAMAT": upper(person.address),
        "NO_RT": person.rt or 0,
        "NO_RW": person.rw or 0,
        "DUSUN": upper(person.dusun),
        "KODE_POS": "",
        "NO_PROP": int(prop),
        "PROP_NAME": upper(names.get(codes["PROP"])),
        "NO_KAB": int(kab),
        "KAB_NAME": upper(names.get(codes["KAB"])),
        "NO_KEC": int(kec),
        "KEC_NAME": upper(names.get(codes["KEC"])),
        "NO_KEL": int(kel),
        "KEL_NAME": upper(names.get(codes["KEL"])),
        "EKTP_STATUS": "",
        "LAST_UPDATED": "" if last_updated is None else last_updated.strftime("%d-%m-%Y %H:%M:%S"),
    }
    record.update(extra or {})
    return record


def normalise_text(value: str | None) -> str:
    """Case, spacing and punctuation folded away: "Muh. Ali" == "MUH ALI"."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", value).upper()
    text = re.sub(r"['’‘`]", "", text)  # "Ni'mah" is "Nimah"
    return " ".join(re.sub(r"[^\w]+|_", " ", text).split())


_TEXT_FIELDS = {"full_name", "birth_place", "mother_name", "dusun", "address"}
COMPARED_FIELDS = tuple(f.name for f in fields(RegistryPerson))


def compare(
    registry_person: RegistryPerson, dukcapil_person: RegistryPerson | Mapping[str, Any]
) -> list[FieldDifference]:
    """Fields where the registry and Dukcapil disagree, in RegistryPerson field order.

    ``dukcapil_person`` is a mapped person or a raw Dukcapil record. Text fields are
    compared normalised (see ``normalise_text``); a value on one side only differs.
    """
    other = (
        dukcapil_person
        if isinstance(dukcapil_person, RegistryPerson)
        else from_dukcapil(dukcapil_person).person
    )
    differences = []
    for name in COMPARED_FIELDS:
        mine, theirs = getattr(registry_person, name), getattr(other, name)
        same = (
            normalise_text(mine) == normalise_text(theirs)
            if name in _TEXT_FIELDS
            else mine == theirs
        )
        if not same:
            differences.append(FieldDifference(name, mine, theirs))
    return differences
