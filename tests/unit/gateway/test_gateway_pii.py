"""Masking, keyed lookup hash and field encryption (common/pii.py)."""

import base64
import hashlib
import hmac
from datetime import date

import pytest

from common.pii import (
    PURPOSE_CODES,
    PURPOSES,
    FieldCryptoError,
    FieldKeyring,
    UnknownFieldKey,
    decrypt_field,
    encrypt_field,
    generate_field_key,
    lookup_hash,
    mask_birth_date,
    mask_kk,
    mask_name,
    mask_nik,
    mask_record,
    needs_reencryption,
)

# A woman born 5 July 1990 (day 05 + 40 = 45) registered in Delta Pawan (61.04.16).
NIK = "6104164507900001"
KK = "6104161203150007"
HASH_KEY = b"k" * 32


def test_mask_nik_keeps_regency_and_serial_only() -> None:
    assert mask_nik(NIK) == "6104••••••••0001"
    assert mask_nik("6104 1645 0790 0001") == "6104••••••••0001"
    assert mask_nik("61.04.16.450790.0001") == "6104••••••••0001"
    # Neither the birth date nor the sex digits may survive.
    assert "4507" not in mask_nik(NIK) and "0790" not in mask_nik(NIK)


def test_mask_malformed_numbers_hides_everything_including_length() -> None:
    assert mask_nik("12345") == "•" * 16
    assert mask_nik("61041645079000012") == "•" * 16
    assert mask_nik("6104164507900O01") == "•" * 16
    assert mask_nik(None) is None


def test_mask_kk() -> None:
    assert mask_kk(KK) == "6104••••••••0007"


def test_mask_birth_date() -> None:
    assert mask_birth_date(date(2024, 3, 17)) == "2024"
    assert mask_birth_date(date(2024, 3, 17), precision="month") == "2024-03"
    assert mask_birth_date("2024-03-17") == "2024"
    assert mask_birth_date("17-03-2024") == "•••"
    assert mask_birth_date(None) is None


def test_mask_name() -> None:
    assert mask_name("Siti Nurhaliza") == "S. N."
    assert mask_name("  ahmad   yani ") == "A. Y."
    assert mask_name("Sukarno") == "S."
    assert mask_name("") == ""


def test_mask_record() -> None:
    record = {
        "id": "0190f1c2-0000-7000-8000-000000000001",
        "nik": NIK,
        "full_name": "Siti Nurhaliza",
        "birth_date": "1990-07-05",
        "address": "Jl. Gajah Mada RT 03",
        "village_code": "61.04.16.2007",
    }
    kinds = {"nik": "nik", "full_name": "name", "birth_date": "birth_date", "address": "redact"}
    masked = mask_record(record, kinds, allowed=False)
    assert masked == {
        "id": "0190f1c2-0000-7000-8000-000000000001",
        "nik": "6104••••••••0001",
        "full_name": "S. N.",
        "birth_date": "1990",
        "address": "•••",
        "village_code": "61.04.16.2007",
    }
    assert record["nik"] == NIK  # the input is not modified
    assert mask_record(record, kinds, allowed=True) == record


def test_lookup_hash_is_hmac_of_normalised_value() -> None:
    expected = hmac.new(HASH_KEY, b"nik\x00" + NIK.encode(), hashlib.sha256).hexdigest()
    assert lookup_hash("nik", NIK, HASH_KEY) == expected
    assert lookup_hash("nik", " 6104-1645-0790-0001 ", HASH_KEY) == expected
    assert lookup_hash("nik", "６１０４１６４５０７９００００１", HASH_KEY) == expected  # fullwidth


def test_lookup_hash_depends_on_key_and_kind() -> None:
    h = lookup_hash("nik", NIK, HASH_KEY)
    assert lookup_hash("nik", NIK, b"j" * 32) != h
    assert lookup_hash("kk_number", NIK, HASH_KEY) != h
    assert lookup_hash("nik", "6104164507900002", HASH_KEY) != h
    assert h != hashlib.sha256(NIK.encode()).hexdigest()


def test_lookup_hash_refuses_bad_input() -> None:
    with pytest.raises(ValueError):
        lookup_hash("nik", "61041645O7900001", HASH_KEY)
    with pytest.raises(ValueError):
        lookup_hash("nik", NIK, b"short")


def test_lookup_hash_of_names_folds_case_and_spaces() -> None:
    assert lookup_hash("name", "Siti  NURHALIZA", HASH_KEY) == lookup_hash(
        "name", "siti nurhaliza", HASH_KEY
    )


@pytest.fixture
def keyring() -> FieldKeyring:
    return FieldKeyring({"k1": generate_field_key()}, active="k1")


def test_encrypt_round_trip(keyring: FieldKeyring) -> None:
    sealed = encrypt_field(NIK, keyring, context="registry.person.nik")
    assert sealed.startswith("k1:")
    assert NIK not in sealed
    assert decrypt_field(sealed, keyring, context="registry.person.nik") == NIK
    # Random nonce: the same value never encrypts to the same text.
    assert encrypt_field(NIK, keyring, context="registry.person.nik") != sealed


def test_tampering_is_detected(keyring: FieldKeyring) -> None:
    sealed = encrypt_field(NIK, keyring, context="registry.person.nik")
    key_id, body = sealed.split(":")
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    for position in (0, 12, len(raw) - 1):  # nonce, ciphertext, tag
        flipped = bytearray(raw)
        flipped[position] ^= 0x01
        forged = f"{key_id}:{base64.urlsafe_b64encode(bytes(flipped)).decode().rstrip('=')}"
        with pytest.raises(FieldCryptoError):
            decrypt_field(forged, keyring, context="registry.person.nik")
    with pytest.raises(FieldCryptoError):
        decrypt_field(f"{key_id}:{body[:10]}", keyring, context="registry.person.nik")


def test_ciphertext_is_bound_to_its_column(keyring: FieldKeyring) -> None:
    sealed = encrypt_field(NIK, keyring, context="registry.person.nik")
    with pytest.raises(FieldCryptoError):
        decrypt_field(sealed, keyring, context="registry.household.kk_number")


def test_key_rotation() -> None:
    old_key, new_key = generate_field_key(), generate_field_key()
    before = FieldKeyring({"k1": old_key}, active="k1")
    sealed = encrypt_field(NIK, before, context="c")
    after = FieldKeyring({"k1": old_key, "k2": new_key}, active="k2")
    assert decrypt_field(sealed, after, context="c") == NIK
    assert needs_reencryption(sealed, after)
    resealed = encrypt_field(NIK, after, context="c")
    assert resealed.startswith("k2:") and not needs_reencryption(resealed, after)
    with pytest.raises(UnknownFieldKey):
        decrypt_field(resealed, before, context="c")
    with pytest.raises(FieldCryptoError):
        # Same id, different key material: must fail, not return garbage.
        decrypt_field(sealed, FieldKeyring({"k1": new_key}, active="k1"), context="c")


def test_keyring_validation() -> None:
    with pytest.raises(ValueError):
        FieldKeyring({"k1": b"x" * 16}, active="k1")
    with pytest.raises(ValueError):
        FieldKeyring({"k:1": generate_field_key()}, active="k:1")
    with pytest.raises(ValueError):
        FieldKeyring({"k1": generate_field_key()}, active="k2")


def test_keyring_from_base64_settings() -> None:
    raw = bytes(range(32))
    ring = FieldKeyring.from_base64({"k1": base64.b64encode(raw).decode()}, active="k1")
    assert ring.keys["k1"] == raw


def test_purposes_are_bilingual() -> None:
    assert {"service_delivery", "verification", "case_review", "data_correction"} <= PURPOSE_CODES
    assert "audit_investigation" in PURPOSE_CODES
    for purpose in PURPOSES:
        assert purpose.label["id"] and purpose.label["en"]
    assert len(PURPOSE_CODES) == len(PURPOSES)
