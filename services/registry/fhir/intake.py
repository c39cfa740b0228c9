"""Reading a Bundle of growth Observations sent by another system (no I/O).

Each Observation becomes an :class:`ObservationIn` or carries the issues that keep it
out; Observations of the same child on the same date form one visit (one measurement
in the registry). Patient entries only help to name the child (by NIK or registry id):
the registry never creates a person from FHIR.
"""

import hashlib
import math
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from services.registry.fhir.resources import Issue
from services.registry.fhir.terms import (
    BMI,
    BY_LOINC,
    HEIGHT,
    LENGTH,
    LOINC,
    NIK_SYSTEM,
    PERSON_SYSTEM,
    UCUM,
    WEIGHT,
    Quantity,
)

MAX_ENTRIES = 1000
BUNDLE_TYPES = ("transaction", "batch", "collection")
ACCEPTED_STATUS = ("final", "amended", "corrected")
_NIK = re.compile(r"^[0-9]{16}$")
_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})")
_MAX_IDENTIFIER = 255


def _issue(
    code: str, issue_type: str, status: int, en: str, id_: str, expression: str | None = None
) -> Issue:
    return Issue(code, issue_type, status, {"en": en, "id": id_}, expression)


class BundleRejected(Exception):
    """The request as a whole is not a Bundle this endpoint can read."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        super().__init__(issues[0].message["en"])
        self.issues = list(issues)


@dataclass(frozen=True)
class SubjectKey:
    kind: str  # "nik" or "id"
    value: str


@dataclass
class ObservationIn:
    identifier: tuple[str, str]
    quantity: Quantity
    value: float
    effective: date
    subject: SubjectKey
    performer: str | None


@dataclass
class EntryIn:
    index: int
    resource_type: str
    full_url: str | None
    observation: ObservationIn | None = None
    patient_key: SubjectKey | None = None
    person_id: uuid.UUID | None = None
    issues: list[Issue] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"Bundle.entry[{self.index}]"

    def fail(self, issue: Issue) -> None:
        self.issues.append(issue)


@dataclass
class BundleIn:
    kind: str
    entries: list[EntryIn]

    @property
    def observations(self) -> list[EntryIn]:
        return [e for e in self.entries if e.observation is not None and not e.issues]

    @property
    def all_or_nothing(self) -> bool:
        return self.kind == "transaction"


# --- the Bundle ------------------------------------------------------------------------------


def read_bundle(body: Any) -> BundleIn:
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise BundleRejected(
            [
                _issue(
                    "not_a_bundle",
                    "structure",
                    422,
                    "The body must be a FHIR Bundle resource.",
                    "Isi permintaan harus sumber daya FHIR Bundle.",
                    "Bundle",
                )
            ]
        )
    kind = body.get("type")
    if kind not in BUNDLE_TYPES:
        raise BundleRejected(
            [
                _issue(
                    "bundle_type_unsupported",
                    "not-supported",
                    422,
                    f"Bundle.type must be one of {', '.join(BUNDLE_TYPES)}.",
                    f"Bundle.type harus salah satu dari {', '.join(BUNDLE_TYPES)}.",
                    "Bundle.type",
                )
            ]
        )
    raw = body.get("entry")
    if not isinstance(raw, list) or not raw:
        raise BundleRejected(
            [
                _issue(
                    "bundle_empty",
                    "required",
                    422,
                    "The Bundle has no entries.",
                    "Bundle tidak berisi entri.",
                    "Bundle.entry",
                )
            ]
        )
    if len(raw) > MAX_ENTRIES:
        raise BundleRejected(
            [
                _issue(
                    "bundle_too_large",
                    "too-costly",
                    413,
                    f"At most {MAX_ENTRIES} entries per Bundle; split it.",
                    f"Paling banyak {MAX_ENTRIES} entri per Bundle; pecah menjadi beberapa.",
                    "Bundle.entry",
                )
            ]
        )
    entries = [_read_entry(i, e, kind) for i, e in enumerate(raw)]
    _resolve_local_references(entries, raw)
    _flag_repeated_identifiers(entries)
    return BundleIn(kind, entries)


def _read_entry(index: int, raw: Any, kind: str) -> EntryIn:
    resource = raw.get("resource") if isinstance(raw, dict) else None
    rtype = resource.get("resourceType") if isinstance(resource, dict) else None
    entry = EntryIn(index, str(rtype or ""), raw.get("fullUrl") if isinstance(raw, dict) else None)
    if not isinstance(resource, dict) or not isinstance(rtype, str):
        entry.fail(
            _issue(
                "entry_without_resource",
                "required",
                422,
                "The entry has no resource.",
                "Entri tidak berisi sumber daya.",
                f"{entry.where}.resource",
            )
        )
        return entry
    request = raw.get("request")
    if kind != "collection" and isinstance(request, dict):
        method = str(request.get("method", "")).upper()
        if method not in ("POST", "PUT"):
            entry.fail(
                _issue(
                    "method_unsupported",
                    "not-supported",
                    405,
                    "Only POST and PUT entries are accepted.",
                    "Hanya entri POST dan PUT yang diterima.",
                    f"{entry.where}.request.method",
                )
            )
            return entry
    if rtype == "Patient":
        key = _patient_key(resource)
        if key is not None:
            entry.patient_key = _checked_key(entry, key, f"{entry.where}.resource.identifier")
        else:
            entry.fail(
                _issue(
                    "patient_unidentified",
                    "required",
                    422,
                    "The Patient carries neither a NIK nor a registry id identifier.",
                    "Patient tidak memuat identifier NIK maupun id registrasi.",
                    f"{entry.where}.resource.identifier",
                )
            )
        return entry
    if rtype != "Observation":
        entry.fail(
            _issue(
                "resource_unsupported",
                "not-supported",
                422,
                f"{rtype} is not accepted here; send growth Observations.",
                f"{rtype} tidak diterima di sini; kirim Observation pertumbuhan.",
                f"{entry.where}.resource.resourceType",
            )
        )
        return entry
    entry.observation = _read_observation(entry, resource)
    return entry


def _patient_key(resource: dict[str, Any]) -> SubjectKey | None:
    for identifier in _list(resource.get("identifier")):
        key = _identifier_key(identifier)
        if key is not None:
            return key
    return None


def _identifier_key(identifier: Any) -> SubjectKey | None:
    if not isinstance(identifier, dict):
        return None
    system, value = identifier.get("system"), identifier.get("value")
    if not isinstance(value, str):
        return None
    if system == NIK_SYSTEM:
        return SubjectKey("nik", value.strip())
    if system == PERSON_SYSTEM:
        return SubjectKey("id", value.strip())
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# --- one Observation -----------------------------------------------------------------------


def _read_observation(entry: EntryIn, r: dict[str, Any]) -> ObservationIn | None:
    at = f"{entry.where}.resource"
    before = len(entry.issues)
    identifier = _observation_identifier(r)
    if identifier is None:
        entry.fail(
            _issue(
                "identifier_missing",
                "required",
                422,
                "The Observation needs an identifier with system and value "
                "(it makes a repeated import harmless).",
                "Observation memerlukan identifier dengan system dan value "
                "(agar impor ulang tidak menggandakan data).",
                f"{at}.identifier",
            )
        )
    status = r.get("status")
    if status not in ACCEPTED_STATUS:
        entry.fail(
            _issue(
                "status_not_final",
                "business-rule",
                422,
                f"Only final results are imported (status {', '.join(ACCEPTED_STATUS)}), "
                f"not {status!r}.",
                f"Hanya hasil akhir yang diimpor (status {', '.join(ACCEPTED_STATUS)}), "
                f"bukan {status!r}.",
                f"{at}.status",
            )
        )
    quantity = _quantity(r)
    if quantity is None:
        entry.fail(
            _issue(
                "unknown_code",
                "code-invalid",
                422,
                "Observation.code must carry a LOINC growth code: 29463-7, 8302-2, "
                "8306-3, 9843-4, 56072-2 or 39156-5.",
                "Observation.code harus memuat kode LOINC pertumbuhan: 29463-7, 8302-2, "
                "8306-3, 9843-4, 56072-2 atau 39156-5.",
                f"{at}.code",
            )
        )
    value = _value(entry, r, quantity, at)
    effective = _effective(entry, r, at)
    subject = _subject_key(entry, r, at)
    if len(entry.issues) > before:
        return None
    assert identifier and quantity and value is not None and effective and subject
    return ObservationIn(identifier, quantity, value, effective, subject, _performer(r))


def _observation_identifier(r: dict[str, Any]) -> tuple[str, str] | None:
    for identifier in _list(r.get("identifier")):
        if not isinstance(identifier, dict):
            continue
        system, value = identifier.get("system"), identifier.get("value")
        if (
            isinstance(system, str)
            and isinstance(value, str)
            and system.strip()
            and value.strip()
            and len(system) <= _MAX_IDENTIFIER
            and len(value) <= _MAX_IDENTIFIER
        ):
            return system.strip(), value.strip()
    return None


def _quantity(r: dict[str, Any]) -> Quantity | None:
    code = r.get("code")
    for coding in _list(code.get("coding") if isinstance(code, dict) else None):
        if isinstance(coding, dict) and coding.get("system") == LOINC:
            found = BY_LOINC.get(str(coding.get("code")))
            if found is not None:
                return found
    return None


def _value(entry: EntryIn, r: dict[str, Any], q: Quantity | None, at: str) -> float | None:
    vq = r.get("valueQuantity")
    number = vq.get("value") if isinstance(vq, dict) else None
    if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
        entry.fail(
            _issue(
                "value_missing",
                "required",
                422,
                "valueQuantity.value must be a number.",
                "valueQuantity.value harus berupa angka.",
                f"{at}.valueQuantity.value",
            )
        )
        return None
    if number <= 0:
        entry.fail(
            _issue(
                "value_not_positive",
                "value",
                422,
                "A measurement must be greater than zero.",
                "Hasil ukur harus lebih dari nol.",
                f"{at}.valueQuantity.value",
            )
        )
        return None
    if q is None:
        return float(number)
    assert isinstance(vq, dict)
    system, code = vq.get("system"), vq.get("code")
    unit = code if code is not None else vq.get("unit")
    if (system is not None and system != UCUM) or unit != q.unit:
        entry.fail(
            _issue(
                "wrong_unit",
                "value",
                422,
                f"{q.display} must be in UCUM {q.unit!r}, not {unit!r}.",
                f"{q.display} harus dalam satuan UCUM {q.unit!r}, bukan {unit!r}.",
                f"{at}.valueQuantity.code",
            )
        )
        return None
    return float(number)


def _effective(entry: EntryIn, r: dict[str, Any], at: str) -> date | None:
    """The visit date as written (a time, if any, is in the sender's own offset)."""
    raw = r.get("effectiveDateTime")
    match = _DATE.match(raw) if isinstance(raw, str) else None
    if match is None:
        entry.fail(
            _issue(
                "effective_missing",
                "required",
                422,
                "effectiveDateTime must give the day of the measurement (YYYY-MM-DD).",
                "effectiveDateTime harus memuat tanggal pengukuran (YYYY-MM-DD).",
                f"{at}.effectiveDateTime",
            )
        )
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        entry.fail(
            _issue(
                "effective_invalid",
                "value",
                422,
                f"{raw!r} is not a valid date.",
                f"{raw!r} bukan tanggal yang valid.",
                f"{at}.effectiveDateTime",
            )
        )
        return None


def _subject_key(entry: EntryIn, r: dict[str, Any], at: str) -> SubjectKey | None:
    subject = r.get("subject")
    key: SubjectKey | None = None
    if isinstance(subject, dict):
        key = _identifier_key(subject.get("identifier"))
        reference = subject.get("reference")
        if key is None and isinstance(reference, str):
            if reference.startswith("Patient/"):
                key = SubjectKey("id", reference.removeprefix("Patient/"))
            else:
                # A reference to a Patient entry of this Bundle, resolved afterwards.
                key = SubjectKey("local", reference)
    if key is None:
        entry.fail(
            _issue(
                "subject_missing",
                "required",
                422,
                "Observation.subject must name the child: a NIK identifier "
                f"({NIK_SYSTEM}), Patient/<registry id>, or a Patient entry of this Bundle.",
                "Observation.subject harus menyebut anak: identifier NIK "
                f"({NIK_SYSTEM}), Patient/<id registrasi>, atau entri Patient dalam Bundle ini.",
                f"{at}.subject",
            )
        )
        return None
    return _checked_key(entry, key, f"{at}.subject")


def _checked_key(entry: EntryIn, key: SubjectKey, at: str) -> SubjectKey | None:
    if key.kind == "nik" and not _NIK.match(key.value):
        entry.fail(
            _issue(
                "nik_invalid",
                "value",
                422,
                "A NIK has 16 digits.",
                "NIK terdiri dari 16 angka.",
                at,
            )
        )
        return None
    if key.kind == "id":
        try:
            uuid.UUID(key.value)
        except ValueError:
            entry.fail(
                _issue(
                    "patient_not_found",
                    "not-found",
                    404,
                    "No child with this NIK or registry id in your region.",
                    "Tidak ada anak dengan NIK atau id registrasi ini di wilayah Anda.",
                    at,
                )
            )
            return None
    return key


def _performer(r: dict[str, Any]) -> str | None:
    for performer in _list(r.get("performer")):
        if isinstance(performer, dict) and isinstance(performer.get("display"), str):
            return performer["display"][:200]
    return None


# --- across entries --------------------------------------------------------------------------


def _resolve_local_references(entries: list[EntryIn], raw: list[Any]) -> None:
    by_url: dict[str, EntryIn] = {e.full_url: e for e in entries if e.full_url}
    for entry in entries:
        obs = entry.observation
        if obs is None or obs.subject.kind != "local":
            continue
        target = by_url.get(obs.subject.value)
        if target is None or target.resource_type != "Patient" or target.patient_key is None:
            entry.fail(
                _issue(
                    "subject_unresolved",
                    "not-found",
                    422,
                    f"Observation.subject {obs.subject.value!r} names no Patient entry with a "
                    "NIK or registry id in this Bundle.",
                    f"Observation.subject {obs.subject.value!r} tidak merujuk entri Patient "
                    "dengan NIK atau id registrasi dalam Bundle ini.",
                    f"{entry.where}.resource.subject",
                )
            )
            entry.observation = None
            continue
        checked = _checked_key(entry, target.patient_key, f"{entry.where}.resource.subject")
        if checked is None:
            entry.observation = None
        else:
            obs.subject = checked


def _flag_repeated_identifiers(entries: list[EntryIn]) -> None:
    seen: dict[tuple[str, str], int] = {}
    for entry in entries:
        obs = entry.observation
        if obs is None:
            continue
        first = seen.setdefault(obs.identifier, entry.index)
        if first != entry.index:
            entry.fail(
                _issue(
                    "duplicate_identifier",
                    "duplicate",
                    422,
                    f"The identifier repeats Bundle.entry[{first}].",
                    f"Identifier ini mengulang Bundle.entry[{first}].",
                    f"{entry.where}.resource.identifier",
                )
            )


def content_digest(person_id: uuid.UUID, obs: ObservationIn) -> str:
    """What an identifier stands for: a second import with the same identifier must
    carry the same child, day, code and value (narrative and metadata may differ)."""
    text = (
        f"{person_id}|{obs.effective.isoformat()}|{obs.quantity.loinc}|{obs.value!r}|"
        f"{obs.quantity.unit}"
    )
    return hashlib.sha256(text.encode()).hexdigest()


# --- visits ---------------------------------------------------------------------------------


@dataclass
class Visit:
    person_id: uuid.UUID
    visit_date: date
    entries: list[EntryIn]

    def value(self, q: Quantity) -> float | None:
        return next(
            (
                e.observation.value
                for e in self.entries
                if e.observation and e.observation.quantity is q
            ),
            None,
        )

    @property
    def measure(self) -> str | None:
        kinds = {e.observation.quantity for e in self.entries if e.observation}
        return "l" if LENGTH in kinds else "h" if HEIGHT in kinds else None

    @property
    def measured(self) -> list[EntryIn]:
        return [e for e in self.entries if e.observation and e.observation.quantity is not BMI]

    @property
    def performer(self) -> str | None:
        return next(
            (
                e.observation.performer
                for e in self.entries
                if e.observation and e.observation.performer
            ),
            None,
        )


def visits(entries: Sequence[EntryIn]) -> list[Visit]:
    """Observations of one child on one day, in Bundle order; a quantity twice, length
    and height together, or BMI without weight and length/height fail their entries."""
    grouped: dict[tuple[uuid.UUID, date], list[EntryIn]] = {}
    for entry in entries:
        if entry.observation is None or entry.person_id is None or entry.issues:
            continue
        grouped.setdefault((entry.person_id, entry.observation.effective), []).append(entry)
    out = []
    for (person_id, day), members in grouped.items():
        by_quantity: dict[Quantity, list[EntryIn]] = {}
        for e in members:
            assert e.observation is not None
            by_quantity.setdefault(e.observation.quantity, []).append(e)
        for q, same in by_quantity.items():
            if len(same) > 1:
                for e in same:
                    e.fail(
                        _issue(
                            "quantity_repeated",
                            "duplicate",
                            422,
                            f"{q.display} appears more than once for this child on {day}.",
                            f"{q.display} muncul lebih dari sekali untuk anak ini pada {day}.",
                            f"{e.where}.resource.code",
                        )
                    )
        if LENGTH in by_quantity and HEIGHT in by_quantity:
            for e in by_quantity[LENGTH] + by_quantity[HEIGHT]:
                e.fail(
                    _issue(
                        "position_conflict",
                        "business-rule",
                        422,
                        f"Length lying and standing height are both given for {day}; send one.",
                        f"Panjang badan (berbaring) dan tinggi badan (berdiri) sama-sama "
                        f"dikirim untuk {day}; kirim salah satu.",
                        f"{e.where}.resource.code",
                    )
                )
        has_length = LENGTH in by_quantity or HEIGHT in by_quantity
        if BMI in by_quantity and not (WEIGHT in by_quantity and has_length):
            for e in by_quantity[BMI]:
                e.fail(
                    _issue(
                        "bmi_without_sources",
                        "business-rule",
                        422,
                        "BMI is derived from weight and length/height; send those for "
                        "the same day.",
                        "IMT dihitung dari berat dan panjang/tinggi badan; kirim keduanya "
                        "untuk tanggal yang sama.",
                        f"{e.where}.resource.code",
                    )
                )
        kept = [e for e in members if not e.issues]
        if kept:
            out.append(Visit(person_id, day, kept))
    return out
