"""Rules of a recorded visit, beyond the z-score engine's own row checks: dates against
the child's life, identity cross-checks of an uploaded row, and which visit of a month
counts. Plain functions, no I/O."""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from services.registry.growth.issues import Issue


@dataclass(frozen=True)
class VisitIssue:
    code: str
    field: str
    message: dict[str, str]
    status: int = 422


def _issue(code: str, field: str, en: str, id_: str, status: int = 422) -> VisitIssue:
    return VisitIssue(code, field, {"en": en, "id": id_}, status)


VISIT_IN_FUTURE = _issue(
    "visit_in_future",
    "visit_date",
    "The visit date is in the future",
    "Tanggal kunjungan di masa depan",
)
VISIT_BEFORE_BIRTH = _issue(
    "visit_before_birth",
    "visit_date",
    "The visit date is before the child's birth date",
    "Tanggal kunjungan sebelum tanggal lahir anak",
)
PERSON_DECEASED = _issue(
    "person_deceased",
    "visit_date",
    "The child died before this visit date",
    "Anak sudah meninggal sebelum tanggal kunjungan ini",
    409,
)
PERSON_MERGED = _issue(
    "person_merged",
    "person_id",
    "This record was merged into another; record the visit on that one",
    "Data ini telah digabung ke data lain; catat kunjungan pada data tersebut",
    409,
)
PERSON_NOT_FOUND = _issue(
    "person_not_found",
    "person",
    "No child with this NIK or id in your region",
    "Tidak ada anak dengan NIK atau id ini di wilayah Anda",
    404,
)
ALREADY_RECORDED = _issue(
    "already_recorded",
    "visit_date",
    "A measurement of this child on this date is already recorded; correct it instead",
    "Pengukuran anak ini pada tanggal ini sudah tercatat; ajukan koreksi",
    409,
)
DUPLICATE_ROW = _issue(
    "duplicate_row",
    "visit_date",
    "The same child and visit date appear in an earlier row of this file",
    "Anak dan tanggal kunjungan yang sama sudah ada di baris sebelumnya dalam berkas ini",
)
IDENTIFIER_MISMATCH = _issue(
    "identifier_mismatch",
    "nik",
    "The NIK and the registry id name different people",
    "NIK dan id registrasi menunjuk orang yang berbeda",
)
SEX_MISMATCH = _issue(
    "sex_mismatch",
    "sex",
    "Sex differs from the registry; correct the file or the person record",
    "Jenis kelamin berbeda dengan data registrasi; perbaiki berkas atau data orang",
)
BIRTH_DATE_MISMATCH = _issue(
    "birth_date_mismatch",
    "birth_date",
    "Birth date differs from the registry; correct the file or the person record",
    "Tanggal lahir berbeda dengan data registrasi; perbaiki berkas atau data orang",
)
NAME_MISMATCH = _issue(
    "name_mismatch",
    "name",
    "The name does not match the registered child with this NIK or id",
    "Nama tidak cocok dengan anak terdaftar dengan NIK atau id ini",
)

# Engine fields that, in the registry, come from the visit date and the person record.
_ENGINE_FIELD = {"age_days": "visit_date"}


def from_engine(issue: Issue) -> VisitIssue:
    """An engine row error as a visit issue: age errors concern the visit date here."""
    return VisitIssue(issue.code, _ENGINE_FIELD.get(issue.field, issue.field), issue.message)


def check_visit(
    visit_date: date, birth_date: date, death_date: date | None, today: date
) -> list[VisitIssue]:
    """Date checks of a visit. A visit before the death date may be recorded late."""
    found = []
    if visit_date > today:
        found.append(VISIT_IN_FUTURE)
    if visit_date < birth_date:
        found.append(VISIT_BEFORE_BIRTH)
    if death_date is not None and visit_date > death_date:
        found.append(PERSON_DECEASED)
    return found


_WORD = re.compile(r"[^\w]+")


def _words(name: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", name).casefold()
    plain = (
        folded if folded.isascii() else "".join(c for c in folded if not unicodedata.combining(c))
    )
    return [w for w in _WORD.split(plain.replace("_", " ")) if w]


def _word_matches(typed: str, known: list[str]) -> bool:
    return typed in known or (len(typed) == 1 and any(k.startswith(typed) for k in known))


def names_agree(given: str | None, registered: str) -> bool:
    """Lenient cross-check of a typed name, to catch a row typed against the wrong child.

    An empty cell passes. Otherwise the names agree when the first words are equal,
    when every typed word is a word (or the initial of a word) of the registered name
    ("M. Rizki" for "Muhammad Rizki"), or when one name's letters contain the other's
    ("Nuraini" for "Nur Aini").
    """
    if given is None or not given.strip():
        return True
    typed, known = _words(given), _words(registered)
    if not typed or not known:
        return False
    if typed[0] == known[0] or all(_word_matches(t, known) for t in typed):
        return True
    typed_key, known_key = "".join(typed), "".join(known)
    return typed_key in known_key or known_key in typed_key
