"""Personal-data protection used by every service (UU 27/2022, PDP).

Three tools, one per way personal data is exposed:

* **masking** for responses to callers without the personal-data right (or without a
  stated purpose);
* a **keyed hash** (HMAC-SHA256) so NIK/KK can be looked up exactly without storing
  them in the clear or as a plain hash (a plain SHA-256 of a 16-digit number with a
  known structure is brute-forced in minutes);
* **field encryption** (AES-256-GCM) for NIK/KK at rest, with the key id in front so
  keys can rotate.

What a masked NIK/KK keeps: the first 4 digits (province + regency of issue, which the
caller's region scope already reveals) and the last 4 (the serial, almost always a
low number such as 0001, so it identifies nobody but lets an operator confirm "the
number ending in 0001" with the person in front of them). Digits 5-12 are always hidden:
for a NIK they hold the issuing district and the birth date with day + 40 for women,
i.e. birth date and sex, the quasi-identifiers that make re-identification easy.
"""

import base64
import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MASK_CHAR = "•"
REDACTED = MASK_CHAR * 3
_ID_LENGTH = 16
_KEEP_HEAD = 4
_KEEP_TAIL = 4
_SEPARATORS = re.compile(r"[\s.\-]")
_DIGITS = re.compile(r"[0-9]+")
# 128 bits is ample for an HMAC key; production keys should be 32 random bytes.
MIN_HASH_KEY_BYTES = 16
_NONCE_BYTES = 12
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")

MaskKind = Literal["nik", "kk_number", "birth_date", "birth_month", "name", "redact"]


@dataclass(frozen=True)
class Purpose:
    code: str
    label: dict[str, str]


# Purposes a caller may state for an unmasked read; every such read is audited with it.
PURPOSES: tuple[Purpose, ...] = (
    Purpose("service_delivery", {"id": "Pemberian layanan", "en": "Service delivery"}),
    Purpose("verification", {"id": "Verifikasi data", "en": "Data verification"}),
    Purpose("case_review", {"id": "Telaah kasus", "en": "Case review"}),
    Purpose("data_correction", {"id": "Perbaikan data", "en": "Data correction"}),
    Purpose("referral_handling", {"id": "Penanganan rujukan", "en": "Referral handling"}),
    Purpose(
        "civil_registry_reconciliation",
        {
            "id": "Pencocokan dengan data kependudukan (Dukcapil)",
            "en": "Civil-registry (Dukcapil) reconciliation",
        },
    ),
    Purpose("complaint_handling", {"id": "Penanganan pengaduan", "en": "Complaint handling"}),
    Purpose(
        "data_subject_request",
        {
            "id": "Permintaan subjek data pribadi (UU PDP)",
            "en": "Data-subject request (PDP law)",
        },
    ),
    Purpose("audit_investigation", {"id": "Investigasi audit", "en": "Audit investigation"}),
)
PURPOSE_CODES: frozenset[str] = frozenset(p.code for p in PURPOSES)


# --- masking -------------------------------------------------------------------------


def mask_nik(value: str | None) -> str | None:
    """``"6104164507900001"`` -> ``"6104••••••••0001"``; anything malformed is fully hidden."""
    return _mask_number(value)


def mask_kk(value: str | None) -> str | None:
    """Same rule as the NIK: digits 5-12 (district and issue date) hidden."""
    return _mask_number(value)


def _mask_number(value: str | None) -> str | None:
    if value is None:
        return None
    digits = _SEPARATORS.sub("", value)
    if len(digits) != _ID_LENGTH or not _DIGITS.fullmatch(digits):
        # A fixed-width mask: the length of a malformed value must not leak either.
        return MASK_CHAR * _ID_LENGTH
    hidden = _ID_LENGTH - _KEEP_HEAD - _KEEP_TAIL
    return digits[:_KEEP_HEAD] + MASK_CHAR * hidden + digits[-_KEEP_TAIL:]


def mask_birth_date(
    value: date | str | None, *, precision: Literal["year", "month"] = "year"
) -> str | None:
    """Year (``"2024"``) or year-month (``"2024-03"``); an unreadable value is redacted."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return REDACTED
    return f"{value.year:04d}" if precision == "year" else f"{value.year:04d}-{value.month:02d}"


def mask_name(value: str | None) -> str | None:
    """Initials: ``"Siti Nurhaliza binti Ahmad"`` -> ``"S. N. B. A."``."""
    if value is None:
        return None
    words = [w for w in re.split(r"[\s,]+", unicodedata.normalize("NFKC", value)) if w]
    initials = [next((c for c in w if c.isalnum()), "") for w in words]
    return " ".join(f"{c.upper()}." for c in initials if c)


def mask_value(value: Any, kind: MaskKind) -> Any:
    if value is None:
        return None
    match kind:
        case "nik":
            return mask_nik(str(value))
        case "kk_number":
            return mask_kk(str(value))
        case "birth_date":
            return mask_birth_date(value if isinstance(value, date) else str(value))
        case "birth_month":
            return mask_birth_date(
                value if isinstance(value, date) else str(value), precision="month"
            )
        case "name":
            return mask_name(str(value))
        case "redact":
            return REDACTED
    raise ValueError(f"unknown mask kind {kind!r}")


def mask_record(
    record: Mapping[str, Any], fields: Mapping[str, MaskKind], allowed: bool
) -> dict[str, Any]:
    """A copy of ``record`` with ``fields`` masked unless ``allowed``.

    Flat records only: mask nested objects by calling this on each of them.
    """
    if allowed:
        return dict(record)
    return {
        name: mask_value(value, fields[name]) if name in fields else value
        for name, value in record.items()
    }


# --- keyed hash for exact lookup -------------------------------------------------------


def normalise_identifier(kind: str, value: str) -> str:
    """The form that is hashed: digits only for NIK/KK, case- and space-folded otherwise."""
    text = unicodedata.normalize("NFKC", value)
    if kind in ("nik", "kk_number"):
        digits = _SEPARATORS.sub("", text)
        if not _DIGITS.fullmatch(digits):
            raise ValueError(f"{kind} must contain digits only")
        return digits
    return " ".join(text.casefold().split())


def lookup_hash(kind: str, value: str, key: bytes | str) -> str:
    """HMAC-SHA256 hex of the normalised value; ``kind`` separates NIK from KK hashes.

    Rotating the hash key means recomputing every stored hash, so it is one key only.
    """
    raw_key = key.encode() if isinstance(key, str) else key
    if len(raw_key) < MIN_HASH_KEY_BYTES:
        raise ValueError(f"lookup-hash key must be at least {MIN_HASH_KEY_BYTES} bytes")
    message = f"{kind}\x00{normalise_identifier(kind, value)}".encode()
    return hmac.new(raw_key, message, hashlib.sha256).hexdigest()


# --- field encryption at rest ------------------------------------------------------------


class FieldCryptoError(Exception):
    code = "field_decryption_failed"
    status = 500
    message = {
        "id": "Data terenkripsi tidak dapat dibuka.",
        "en": "Encrypted data could not be decrypted.",
    }


class UnknownFieldKey(FieldCryptoError):
    code = "field_key_unknown"
    message = {
        "id": "Kunci enkripsi data tidak dikenal.",
        "en": "The data encryption key is unknown.",
    }


@dataclass(frozen=True)
class FieldKeyring:
    """AES-256 keys by id; new values are encrypted with ``active``, old ids still decrypt."""

    keys: Mapping[str, bytes]
    active: str

    def __post_init__(self) -> None:
        for key_id, key in self.keys.items():
            if not _KEY_ID.fullmatch(key_id):
                raise ValueError(f"key id {key_id!r} must match {_KEY_ID.pattern}")
            if len(key) != 32:
                raise ValueError(f"field key {key_id!r} must be 32 bytes (AES-256)")
        if self.active not in self.keys:
            raise ValueError(f"active key {self.active!r} is not in the keyring")

    @classmethod
    def from_base64(cls, keys: Mapping[str, str], active: str) -> "FieldKeyring":
        """Build from settings that hold each key as standard or URL-safe base64."""
        return cls({k: _b64decode(v) for k, v in keys.items()}, active)


def generate_field_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def encrypt_field(plaintext: str, keyring: FieldKeyring, *, context: str) -> str:
    """``"<key id>:<base64url(nonce || ciphertext || tag)>"``.

    ``context`` (e.g. ``"registry.person.nik"``) is bound as associated data, so a
    ciphertext copied into another column fails to decrypt.
    """
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = AESGCM(keyring.keys[keyring.active]).encrypt(
        nonce, plaintext.encode(), context.encode()
    )
    return f"{keyring.active}:{_b64encode(nonce + sealed)}"


def decrypt_field(token: str, keyring: FieldKeyring, *, context: str) -> str:
    key_id, _, body = token.partition(":")
    if key_id not in keyring.keys:
        raise UnknownFieldKey(f"key id {key_id!r}")
    try:
        raw = _b64decode(body)
        plain = AESGCM(keyring.keys[key_id]).decrypt(
            raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode()
        )
    except (InvalidTag, ValueError) as exc:
        raise FieldCryptoError("ciphertext, key or context does not match") from exc
    return plain.decode()


def needs_reencryption(token: str, keyring: FieldKeyring) -> bool:
    """True when the value was sealed with a key other than the active one."""
    return token.partition(":")[0] != keyring.active


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    text = text.strip().replace("+", "-").replace("/", "_")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
