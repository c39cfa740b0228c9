"""Password hashing (argon2id) and client secrets."""

import hashlib

from argon2 import PasswordHasher

from gateway.auth.passwords import (
    DEFAULT_HASHER,
    generate_client_secret,
    hash_client_secret,
    hash_password,
    verify_client_secret,
    verify_password,
)


def test_hash_and_verify() -> None:
    stored = hash_password("kalinilam-2025")
    assert stored.startswith("$argon2id$")
    assert "kalinilam" not in stored
    assert verify_password(stored, "kalinilam-2025").ok
    assert verify_password(stored, "kalinilam-2025").new_hash is None
    assert not verify_password(stored, "Kalinilam-2025").ok
    assert hash_password("kalinilam-2025") != stored  # salted


def test_unknown_user_and_garbage_hash_fail() -> None:
    assert not verify_password(None, "anything").ok
    assert not verify_password("not-a-hash", "anything").ok


def test_weak_parameters_are_upgraded_on_success() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    stored = hash_password("posyandu", hasher=weak)
    check = verify_password(stored, "posyandu")
    assert check.ok and check.new_hash is not None
    assert not DEFAULT_HASHER.check_needs_rehash(check.new_hash)
    assert verify_password(check.new_hash, "posyandu").new_hash is None
    assert verify_password(stored, "wrong").new_hash is None


def test_client_secrets() -> None:
    secret = generate_client_secret()
    assert len(secret) >= 43  # 256 bits in base64url
    assert generate_client_secret() != secret
    stored = hash_client_secret(secret)
    assert secret not in stored
    assert stored == "sha256$" + hashlib.sha256(secret.encode()).hexdigest()
    assert verify_client_secret(secret, stored)
    assert not verify_client_secret(secret + "x", stored)
    assert not verify_client_secret(secret, "sha256$" + "0" * 64)
