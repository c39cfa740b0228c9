"""The intervention catalogue as versioned entries, and the rules for changing it and for
recording deliveries against it. Pure functions: callers load entries and pass them in."""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict

from services.interventions import eligibility
from services.interventions.eligibility import Text
from services.interventions.sectors import Sector


class InterventionKind(StrEnum):
    specific = "specific"
    sensitive = "sensitive"


class SubjectKind(StrEnum):
    person = "person"
    household = "household"


class Unit(StrEnum):
    tablets = "tablets"
    visits = "visits"
    days = "days"
    months = "months"
    packages = "packages"
    units = "units"
    sessions = "sessions"
    documents = "documents"
    doses = "doses"
    tests = "tests"
    services = "services"
    enrolments = "enrolments"


UNIT_LABELS: dict[Unit, Text] = {
    Unit.tablets: {"id": "tablet", "en": "tablets"},
    Unit.visits: {"id": "kunjungan", "en": "visits"},
    Unit.days: {"id": "hari", "en": "days"},
    Unit.months: {"id": "bulan", "en": "months"},
    Unit.packages: {"id": "paket", "en": "packages"},
    Unit.units: {"id": "unit", "en": "units"},
    Unit.sessions: {"id": "sesi", "en": "sessions"},
    Unit.documents: {"id": "dokumen", "en": "documents"},
    Unit.doses: {"id": "dosis", "en": "doses"},
    Unit.tests: {"id": "pemeriksaan", "en": "tests"},
    Unit.services: {"id": "layanan", "en": "services"},
    Unit.enrolments: {"id": "kepesertaan", "en": "enrolments"},
}


class DosePeriod(StrEnum):
    """The window over which the expected quantity should be reached."""

    once = "once"
    pregnancy = "pregnancy"
    year = "year"
    month = "month"
    age_window = "age_window"


class FundingSource(StrEnum):
    APBN = "APBN"
    APBD = "APBD"
    DAK = "DAK"
    DANA_DESA = "DANA_DESA"
    CSR = "CSR"


FUNDING_SOURCE_LABELS: dict[FundingSource, Text] = {
    FundingSource.APBN: {
        "id": "Anggaran Pendapatan dan Belanja Negara (APBN)",
        "en": "State budget (APBN)",
    },
    FundingSource.APBD: {
        "id": "Anggaran Pendapatan dan Belanja Daerah (APBD)",
        "en": "Regional budget (APBD)",
    },
    FundingSource.DAK: {
        "id": "Dana Alokasi Khusus (DAK)",
        "en": "Special allocation fund (DAK)",
    },
    FundingSource.DANA_DESA: {"id": "Dana Desa", "en": "Village fund (Dana Desa)"},
    FundingSource.CSR: {
        "id": "Tanggung jawab sosial perusahaan (CSR)",
        "en": "Corporate social responsibility (CSR)",
    },
}


class Dose(BaseModel):
    model_config = ConfigDict(frozen=True)

    quantity: float
    per: DosePeriod
    schedule: Text
    confirmed: bool
    # months of age, inclusive, for per=age_window
    age_window_months: tuple[int, int] | None = None


class CatalogueEntry(BaseModel):
    """One version of one intervention; stored as JSON with its eligibility rule."""

    model_config = ConfigDict(frozen=True)

    code: str
    version: int
    valid_from: date
    retired_on: date | None = None
    name: Text
    kind: InterventionKind
    sectors: tuple[Sector, ...]
    target_groups: tuple[str, ...]
    subject_kind: SubjectKind
    eligibility: dict[str, Any]
    unit: Unit
    dose: Dose | None
    national_target_pct: float | None
    target_confirmed: bool
    target_year: int | None = None
    source: str = ""


# What each intervention is aimed at, as DOMAIN.md's tables name it: the registry's target
# groups plus narrower descriptions that only the eligibility rule can decide.
CATALOGUE_TARGET_GROUPS: dict[str, Text] = eligibility.TARGET_GROUPS | {
    "rumah_tangga": {"id": "rumah tangga", "en": "household"},
    "ibu_hamil_kek": {"id": "ibu hamil KEK", "en": "pregnant woman with KEK"},
    "bayi_0_5_bulan": {"id": "bayi 0–5 bulan", "en": "infant 0–5 months"},
    "anak_6_23_bulan": {"id": "anak 6–23 bulan", "en": "child 6–23 months"},
    "bayi_0_11_bulan": {"id": "bayi 0–11 bulan", "en": "infant 0–11 months"},
    "balita_gizi_buruk": {"id": "balita gizi buruk", "en": "severely wasted child under five"},
    "balita_gizi_kurang": {"id": "balita gizi kurang", "en": "wasted child under five"},
    "krs_tanpa_air_minum_layak": {
        "id": "KRS tanpa air minum layak",
        "en": "KRS without safe drinking water",
    },
    "krs_tanpa_sanitasi_layak": {
        "id": "KRS tanpa sanitasi layak",
        "en": "KRS without safe sanitation",
    },
    "pus_miskin": {"id": "PUS miskin", "en": "poor PUS"},
    "keluarga_miskin": {"id": "keluarga miskin", "en": "poor family"},
    "anak_tanpa_dokumen": {"id": "anak tanpa dokumen", "en": "child without documents"},
    "keluarga_balita": {"id": "keluarga dengan balita", "en": "family with a child under five"},
    "anak_3_6_tahun": {"id": "anak 3–6 tahun", "en": "child 3–6 years"},
}


@dataclass(frozen=True)
class Violation:
    """A broken rule: stable ``code``, bilingual ``message``, and the input field at fault."""

    code: str
    message: Text
    loc: str | None = None


def _v(code: str, id_: str, en: str, loc: str | None = None) -> Violation:
    return Violation(code, {"id": id_, "en": en}, loc)


CODE_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]{0,15}$")


# --- reading the catalogue -------------------------------------------------------------


def versions_of(entries: Iterable[CatalogueEntry], code: str) -> list[CatalogueEntry]:
    return sorted((e for e in entries if e.code == code), key=lambda e: e.version)


def retired_on(entries: Iterable[CatalogueEntry], code: str) -> date | None:
    dates = [e.retired_on for e in entries if e.code == code and e.retired_on is not None]
    return min(dates) if dates else None


def version_in_force(
    entries: Iterable[CatalogueEntry], code: str, on: date
) -> CatalogueEntry | None:
    """The version whose validity covers ``on``; None before the first version or from
    the retirement date on."""
    versions = versions_of(entries, code)
    retired = retired_on(versions, code)
    if retired is not None and on >= retired:
        return None
    started = [e for e in versions if e.valid_from <= on]
    return max(started, key=lambda e: e.valid_from) if started else None


def catalogue_in_force(entries: Iterable[CatalogueEntry], on: date) -> list[CatalogueEntry]:
    entries = list(entries)
    codes = sorted({e.code for e in entries})
    return [v for c in codes if (v := version_in_force(entries, c, on)) is not None]


# --- changing the catalogue ------------------------------------------------------------


def _rule_subject_kind(rule: Mapping[str, Any]) -> str | None:
    if rule.get("op") == "subject_kind":
        return rule.get("kind")
    if rule.get("op") == "all":
        for child in rule.get("rules", []):
            if isinstance(child, Mapping) and child.get("op") == "subject_kind":
                return child.get("kind")
    return None


def validate_entry(entry: CatalogueEntry) -> list[Violation]:
    """Checks an entry needs on its own, whatever else is in the catalogue."""
    problems: list[Violation] = []
    if not CODE_PATTERN.match(entry.code):
        problems.append(
            _v(
                "invalid_code",
                "Kode harus huruf kapital/angka, diawali huruf, paling panjang 16",
                "Code must be capital letters/digits starting with a letter, at most 16",
                "code",
            )
        )
    if any(not entry.name.get(lang, "").strip() for lang in ("id", "en")):
        problems.append(
            _v(
                "missing_label",
                "Nama wajib dalam id dan en",
                "Name is required in id and en",
                "name",
            )
        )
    if not entry.sectors:
        problems.append(
            _v(
                "no_sector",
                "Minimal satu sektor penanggung jawab",
                "At least one sector",
                "sectors",
            )
        )
    unknown_groups = [g for g in entry.target_groups if g not in CATALOGUE_TARGET_GROUPS]
    if not entry.target_groups or unknown_groups:
        problems.append(
            _v(
                "invalid_target_group",
                f"Kelompok sasaran kosong atau tidak dikenal: {', '.join(unknown_groups)}",
                f"Target groups empty or unknown: {', '.join(unknown_groups)}",
                "target_groups",
            )
        )
    problems += [
        Violation("invalid_rule", issue.message, f"eligibility{issue.path[1:]}")
        for issue in eligibility.validate_rule(entry.eligibility)
    ]
    if _rule_subject_kind(entry.eligibility) not in (None, entry.subject_kind.value):
        problems.append(
            _v(
                "subject_kind_mismatch",
                "Aturan kelayakan mensyaratkan jenis subjek lain",
                "The eligibility rule requires another subject kind",
                "eligibility",
            )
        )
    if entry.national_target_pct is not None and not 0 < entry.national_target_pct <= 100:
        problems.append(
            _v(
                "invalid_target",
                "Target nasional harus di atas 0 dan paling tinggi 100%",
                "National target must be above 0 and at most 100%",
                "national_target_pct",
            )
        )
    if entry.dose is not None:
        if entry.dose.quantity <= 0:
            problems.append(
                _v("invalid_dose", "Dosis harus lebih dari 0", "Dose must be above 0", "dose")
            )
        window = entry.dose.age_window_months
        if (entry.dose.per == DosePeriod.age_window) != (window is not None) or (
            window is not None and not 0 <= window[0] <= window[1]
        ):
            problems.append(
                _v(
                    "invalid_dose",
                    "Rentang umur dosis wajib (dan hanya) untuk per=age_window",
                    "An age window is required for (and only for) per=age_window",
                    "dose.age_window_months",
                )
            )
    if entry.version < 1:
        problems.append(
            _v("invalid_version", "Versi mulai dari 1", "Versions start at 1", "version")
        )
    return problems


def validate_new_entry(entries: Sequence[CatalogueEntry], entry: CatalogueEntry) -> list[Violation]:
    """Adding an intervention that did not exist before."""
    problems = validate_entry(entry)
    if versions_of(entries, entry.code):
        problems.append(
            _v(
                "duplicate_code",
                f"Kode {entry.code} sudah ada di katalog; buat versi baru",
                f"Code {entry.code} already exists; add a new version instead",
                "code",
            )
        )
    if entry.version != 1:
        problems.append(
            _v("invalid_version", "Entri baru harus versi 1", "A new entry is version 1", "version")
        )
    if entry.retired_on is not None:
        problems.append(
            _v(
                "invalid_retirement",
                "Entri baru tidak boleh langsung dihentikan",
                "A new entry cannot be retired already",
                "retired_on",
            )
        )
    return problems


def validate_new_version(
    entries: Sequence[CatalogueEntry], entry: CatalogueEntry
) -> list[Violation]:
    """A new version of an existing, not retired intervention, in force from a later day."""
    problems = validate_entry(entry)
    versions = versions_of(entries, entry.code)
    if not versions:
        return problems + [
            _v(
                "unknown_intervention",
                f"Intervensi {entry.code} tidak ada di katalog",
                f"Intervention {entry.code} is not in the catalogue",
                "code",
            )
        ]
    latest = versions[-1]
    if retired_on(versions, entry.code) is not None:
        problems.append(
            _v(
                "intervention_retired",
                f"Intervensi {entry.code} sudah dihentikan; tidak bisa diberi versi baru",
                f"Intervention {entry.code} is retired; it cannot get a new version",
                "code",
            )
        )
    if entry.version != latest.version + 1:
        problems.append(
            _v(
                "invalid_version",
                f"Versi berikutnya harus {latest.version + 1}",
                f"The next version must be {latest.version + 1}",
                "version",
            )
        )
    if entry.valid_from <= latest.valid_from:
        problems.append(
            _v(
                "valid_from_not_after_previous",
                f"Berlaku mulai harus setelah {latest.valid_from} (versi {latest.version})",
                f"valid_from must be after {latest.valid_from} (version {latest.version})",
                "valid_from",
            )
        )
    if entry.retired_on is not None:
        problems.append(
            _v(
                "invalid_retirement",
                "Versi baru tidak boleh langsung dihentikan",
                "A new version cannot be retired already",
                "retired_on",
            )
        )
    return problems


def validate_retirement(entries: Sequence[CatalogueEntry], code: str, on: date) -> list[Violation]:
    versions = versions_of(entries, code)
    if not versions:
        return [
            _v(
                "unknown_intervention",
                f"Intervensi {code} tidak ada di katalog",
                f"Intervention {code} is not in the catalogue",
                "code",
            )
        ]
    if retired_on(versions, code) is not None:
        return [
            _v(
                "already_retired",
                f"Intervensi {code} sudah dihentikan",
                f"Intervention {code} is already retired",
                "code",
            )
        ]
    if on <= versions[-1].valid_from:
        return [
            _v(
                "retire_before_valid_from",
                f"Tanggal penghentian harus setelah {versions[-1].valid_from}",
                f"The retirement date must be after {versions[-1].valid_from}",
                "retired_on",
            )
        ]
    return []


def retire(entries: Sequence[CatalogueEntry], code: str, on: date) -> CatalogueEntry:
    """The latest version marked retired from ``on`` (check validate_retirement first)."""
    return versions_of(entries, code)[-1].model_copy(update={"retired_on": on})


# --- deliveries ------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    code: str
    delivered_on: date
    quantity: float
    unit: str
    funding_source: str


def deliverable_version(
    entries: Sequence[CatalogueEntry], code: str, on: date
) -> CatalogueEntry | Violation:
    """The version a delivery on ``on`` is recorded against, or why there is none."""
    versions = versions_of(entries, code)
    if not versions:
        return _v(
            "unknown_intervention",
            f"Intervensi {code} tidak ada di katalog",
            f"Intervention {code} is not in the catalogue",
            "code",
        )
    retired = retired_on(versions, code)
    if retired is not None and on >= retired:
        return _v(
            "intervention_retired",
            f"Intervensi {code} dihentikan sejak {retired}; tidak bisa menerima pemberian",
            f"Intervention {code} was retired on {retired}; it cannot receive deliveries",
            "code",
        )
    entry = version_in_force(versions, code, on)
    if entry is None:
        return _v(
            "intervention_not_in_force",
            f"Intervensi {code} belum berlaku pada {on}",
            f"Intervention {code} was not yet in force on {on}",
            "delivered_on",
        )
    return entry


def validate_delivery(
    entries: Sequence[CatalogueEntry],
    delivery: Delivery,
    subject: Mapping[str, Any],
    today: date,
) -> list[Violation]:
    """Every reason a delivery cannot be recorded; an empty list means it can."""
    problems: list[Violation] = []
    if delivery.delivered_on > today:
        problems.append(
            _v(
                "delivery_in_future",
                "Tanggal pemberian tidak boleh di masa depan",
                "The delivery date cannot be in the future",
                "delivered_on",
            )
        )
    birth = subject.get("birth_date")
    birth = date.fromisoformat(birth) if isinstance(birth, str) else birth
    if birth is not None and delivery.delivered_on < birth:
        problems.append(
            _v(
                "delivery_before_birth",
                f"Tanggal pemberian sebelum tanggal lahir subjek ({birth})",
                f"The delivery date is before the subject's birth ({birth})",
                "delivered_on",
            )
        )
    if not delivery.quantity > 0:
        problems.append(
            _v("quantity_not_positive", "Jumlah harus > 0", "Quantity must be > 0", "quantity")
        )
    if delivery.funding_source not in {f.value for f in FundingSource}:
        allowed = ", ".join(FundingSource)
        problems.append(
            _v(
                "unknown_funding_source",
                f"Sumber dana harus salah satu dari: {allowed}",
                f"Funding source must be one of: {allowed}",
                "funding_source",
            )
        )
    entry = deliverable_version(entries, delivery.code, delivery.delivered_on)
    if isinstance(entry, Violation):
        return problems + [entry]
    if delivery.unit != entry.unit:
        label = UNIT_LABELS[entry.unit]
        problems.append(
            _v(
                "unit_mismatch",
                f"Satuan {entry.code} adalah {entry.unit.value} ({label['id']})",
                f"The unit of {entry.code} is {entry.unit.value} ({label['en']})",
                "unit",
            )
        )
    why = eligibility.explain_ineligible(
        entry.eligibility, subject, delivery.delivered_on, code=entry.code, name=entry.name
    )
    if why is not None:
        problems.append(Violation(eligibility.NOT_APPLICABLE_CODE, why, "subject"))
    return problems


# --- dose progress ---------------------------------------------------------------------


class DoseStatus(StrEnum):
    complete = "complete"
    on_track = "on_track"
    behind = "behind"


DOSE_STATUS_LABELS: dict[DoseStatus, Text] = {
    DoseStatus.complete: {"id": "lengkap", "en": "complete"},
    DoseStatus.on_track: {"id": "sesuai jadwal", "en": "on track"},
    DoseStatus.behind: {"id": "tertinggal", "en": "behind"},
}


@dataclass(frozen=True)
class DoseProgress:
    received: float
    expected_total: float
    expected_by_now: float
    unit: Unit
    percent: float
    status: DoseStatus
    ignored_deliveries: int


# A pregnancy still open with no expected end is assumed to run 280 days from its start.
DEFAULT_PREGNANCY_DAYS = 280


def dose_window(
    entry: CatalogueEntry, subject: Mapping[str, Any], as_of: date
) -> tuple[date, date] | None:
    """The inclusive window the dose is counted over for this subject, or None for a
    lifetime (``once``) dose or when the subject lacks the data to place the window."""
    if entry.dose is None or entry.dose.per == DosePeriod.once:
        return None
    if entry.dose.per == DosePeriod.year:
        return date(as_of.year, 1, 1), date(as_of.year, 12, 31)
    if entry.dose.per == DosePeriod.month:
        first = as_of.replace(day=1)
        return first, first + relativedelta(months=1) - timedelta(days=1)
    if entry.dose.per == DosePeriod.age_window:
        raw = subject.get("birth_date")
        if raw is None or entry.dose.age_window_months is None:
            return None
        birth = date.fromisoformat(raw) if isinstance(raw, str) else raw
        lo, hi = entry.dose.age_window_months
        end = birth + relativedelta(months=hi + 1) - timedelta(days=1)
        return birth + relativedelta(months=lo), end
    pregnancies = []
    for item in subject.get("target_groups") or []:
        if item.get("group") != "ibu_hamil":
            continue
        start = _day(item.get("start"))
        if start is None or start > as_of:
            continue
        end = _day(item.get("end")) or _day(item.get("expected_end"))
        pregnancies.append((start, end or start + timedelta(days=DEFAULT_PREGNANCY_DAYS - 1)))
    return max(pregnancies) if pregnancies else None


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def dose_progress(
    entry: CatalogueEntry,
    deliveries: Iterable[Delivery],
    as_of: date,
    window: tuple[date, date] | None = None,
) -> DoseProgress:
    """Quantity received against the expected dose. Within an unfinished window the
    expectation grows linearly with the days elapsed; otherwise the full dose is due."""
    if entry.dose is None:
        raise ValueError(f"{entry.code} has no dose")
    received, ignored = 0.0, 0
    for d in deliveries:
        if d.code != entry.code or d.delivered_on > as_of:
            continue
        if window is not None and not window[0] <= d.delivered_on <= window[1]:
            continue
        if d.unit != entry.unit:
            ignored += 1
            continue
        received += d.quantity
    total = entry.dose.quantity
    expected = total
    if window is not None and as_of < window[1]:
        elapsed = max((as_of - window[0]).days + 1, 0)
        expected = total * elapsed / ((window[1] - window[0]).days + 1)
    if received >= total:
        status = DoseStatus.complete
    elif received < expected:
        status = DoseStatus.behind
    else:
        status = DoseStatus.on_track
    return DoseProgress(
        received=received,
        expected_total=total,
        expected_by_now=expected,
        unit=entry.unit,
        percent=round(100 * received / total, 1),
        status=status,
        ignored_deliveries=ignored,
    )
