"""The registry's bulk-export datasets: households, persons, measurements.

Masked (without the personal-data right and a purpose): NIK and KK keep the digits
``common.pii`` keeps, names become initials, birth dates keep the year and month, the
street address is withheld and a measurement's exact age in days is left out (with the
visit date it gives the birth date away; ``age_months`` stays).

The database builds each row's JSON for the columns that are never masked; Python
decrypts and masks the others and joins the two (``stream.with_fields``).
"""

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache, partial

import asyncpg
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from common.export_stream import Dataset, json_object, region_filter, with_fields
from common.pii import REDACTED, mask_birth_date, mask_kk, mask_name, mask_nik
from services.registry.growth.age import DAYS_PER_MONTH
from services.registry.growth.csv_io import CLASS_COLUMNS, FLAG_COLUMNS, Z_COLUMNS
from services.registry.persons.crypto import KK_CONTEXT, NIK_CONTEXT, PiiCodec, pii_codec

_NONCE = 12
_NIK_AD = NIK_CONTEXT.encode()
_KK_AD = KK_CONTEXT.encode()


@dataclass
class Unsealer:
    """Decrypts many ``common.pii`` field tokens with one cipher object per key (the
    per-call set-up of ``decrypt_field`` costs more than the decryption itself)."""

    codec: PiiCodec

    def __post_init__(self) -> None:
        self._ciphers = {k: AESGCM(v) for k, v in self.codec.keyring.keys.items()}

    def open(self, token: str | None, context: bytes) -> str | None:
        if token is None:
            return None
        key_id, _, body = token.partition(":")
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        return self._ciphers[key_id].decrypt(raw[:_NONCE], raw[_NONCE:], context).decode()


# Birth dates repeat a great deal across a million rows: the common.pii rule,
# remembered per value (bounded, so memory stays flat).
_year_month = lru_cache(maxsize=1 << 16)(partial(mask_birth_date, precision="month"))
_COMMA = str.maketrans(",", " ")


def initials(name: str | None) -> str | None:
    """``common.pii.mask_name`` (the same result, tested), without its Unicode
    normalisation and regular expression for the ASCII names that most are: a masked
    export spends most of its time here."""
    if name is None or not name.isascii():
        return mask_name(name)
    letters = []
    for word in name.translate(_COMMA).split():
        first = word[0] if word[0].isalnum() else next((c for c in word if c.isalnum()), "")
        if first:
            letters.append(first.upper() + ".")
    return " ".join(letters)


# --- persons ---------------------------------------------------------------------------------

PERSON_COLUMNS = (
    "id",
    "household_id",
    "nik",
    "provisional_id",
    "full_name",
    "sex",
    "birth_date",
    "birth_place",
    "religion",
    "education",
    "occupation",
    "marital_status",
    "has_birth_certificate",
    "mother_id",
    "mother_name",
    "relationship",
    "death_date",
    "village_code",
    "updated_at",
)
_PERSON_SENSITIVE = ("nik", "full_name", "birth_date", "mother_name")


def _persons(rows: Sequence[asyncpg.Record], masked: bool) -> list[bytes]:
    unseal = Unsealer(pii_codec()).open
    out = []
    for nik_enc, name, birth, mother, rest in rows:
        nik = unseal(nik_enc, _NIK_AD)
        if masked:
            fields = {
                "nik": mask_nik(nik),
                "full_name": initials(name),
                "birth_date": _year_month(birth),
                "mother_name": initials(mother),
            }
        else:
            fields = {"nik": nik, "full_name": name, "birth_date": birth, "mother_name": mother}
        out.append(with_fields(fields, rest))
    return out


_PERSON_SCOPE = f"p.merged_into IS NULL AND {region_filter('p.village_code')}"
PERSONS = Dataset(
    "persons",
    PERSON_COLUMNS,
    "SELECT p.nik_enc, p.full_name, p.birth_date, p.mother_name, "
    f"{json_object('p', [c for c in PERSON_COLUMNS if c not in _PERSON_SENSITIVE])}"
    f" FROM person p WHERE {_PERSON_SCOPE}",
    f"SELECT count(*) FROM person p WHERE {_PERSON_SCOPE}",
    _persons,
)


# --- households ------------------------------------------------------------------------------

HOUSEHOLD_COLUMNS = (
    "id",
    "kk_number",
    "village_code",
    "dusun",
    "rw",
    "rt",
    "address",
    "active",
    "water_source",
    "sanitation",
    "house_condition",
    "welfare_decile",
    "extreme_poverty",
    "observed_date",
    "updated_at",
)
_CONDITIONS = (
    "water_source",
    "sanitation",
    "house_condition",
    "welfare_decile",
    "extreme_poverty",
    "observed_date",
)


def _households(rows: Sequence[asyncpg.Record], masked: bool) -> list[bytes]:
    unseal = Unsealer(pii_codec()).open
    out = []
    for kk_enc, address, rest in rows:
        kk = unseal(kk_enc, _KK_AD)
        if masked:
            fields = {"kk_number": mask_kk(kk), "address": None if address is None else REDACTED}
        else:
            fields = {"kk_number": kk, "address": address}
        out.append(with_fields(fields, rest))
    return out


_HOUSEHOLD_JSON = json_object(
    "h",
    [c for c in HOUSEHOLD_COLUMNS if c not in ("kk_number", "address")],
    {c: f"c.{c}" for c in _CONDITIONS},
)
HOUSEHOLDS = Dataset(
    "households",
    HOUSEHOLD_COLUMNS,
    f"""
    SELECT h.kk_number_enc, h.address, {_HOUSEHOLD_JSON}
    FROM household h
    LEFT JOIN LATERAL (
        SELECT {", ".join(_CONDITIONS)}
        FROM household_condition hc WHERE hc.household_id = h.id
        ORDER BY hc.observed_date DESC, hc.id DESC LIMIT 1
    ) c ON true
    WHERE {region_filter("h.village_code")}
    """,
    f"SELECT count(*) FROM household h WHERE {region_filter('h.village_code')}",
    _households,
)


# --- measurements ----------------------------------------------------------------------------

MEASUREMENT_COLUMNS = (
    "id",
    "person_id",
    "household_id",
    "village_code",
    "visit_date",
    "sex",
    "birth_date",
    "age_days",
    "age_months",
    "weight_kg",
    "height_cm",
    "measure",
    "oedema",
    "head_cm",
    "muac_cm",
    "place",
    "posyandu_name",
    "bmi",
    *Z_COLUMNS,
    *FLAG_COLUMNS,
    *CLASS_COLUMNS,
    "counted",
    "source",
    "recorded_at",
)


def _measurements(rows: Sequence[asyncpg.Record], masked: bool) -> list[bytes]:
    out = []
    for birth, age_days, rest in rows:
        if masked:
            fields = {"birth_date": _year_month(birth), "age_days": None}
        else:
            fields = {"birth_date": birth, "age_days": age_days}
        out.append(with_fields(fields, rest))
    return out


_MEASUREMENT_JSON = json_object(
    "m",
    [c for c in MEASUREMENT_COLUMNS if c not in ("birth_date", "age_days")],
    # Completed months, as the growth API shows them.
    {"age_months": f"floor(m.age_days / {DAYS_PER_MONTH})::int"},
)
_MEASUREMENT_SCOPE = f"m.superseded_by IS NULL AND {region_filter('m.village_code')}"
MEASUREMENTS = Dataset(
    "measurements",
    MEASUREMENT_COLUMNS,
    f"SELECT m.birth_date, m.age_days, {_MEASUREMENT_JSON} FROM measurement m"
    f" WHERE {_MEASUREMENT_SCOPE}",
    f"SELECT count(*) FROM measurement m WHERE {_MEASUREMENT_SCOPE}",
    _measurements,
)

DATASETS: dict[str, Dataset] = {d.name: d for d in (HOUSEHOLDS, PERSONS, MEASUREMENTS)}
