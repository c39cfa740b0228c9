"""NIK and KK numbers at rest: AES-GCM ciphertext plus a keyed lookup hash.

The single-value calls are ``common.pii``'s own; the bulk calls (seeding, imports) make
the same tokens and hashes without the per-call set-up, which is most of the cost at
400,000 values. A test proves both agree.
"""

import base64
import hashlib
import hmac
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from common.pii import (
    FieldKeyring,
    decrypt_field,
    encrypt_field,
    lookup_hash,
    normalise_identifier,
)
from common.settings import CommonSettings

NIK_CONTEXT = "registry.person.nik"
KK_CONTEXT = "registry.household.kk_number"
ACTIVE_KEY_ID = "k1"
_NONCE = 12


@dataclass(frozen=True)
class PiiCodec:
    keyring: FieldKeyring
    hash_key: bytes

    def encrypt(self, value: str, context: str) -> str:
        return encrypt_field(value, self.keyring, context=context)

    def decrypt(self, token: str, context: str) -> str:
        return decrypt_field(token, self.keyring, context=context)

    def hash(self, kind: str, value: str) -> str:
        return lookup_hash(kind, value, self.hash_key)

    def encrypt_many(self, values: Sequence[str | None], context: str) -> list[str | None]:
        """Same token format as :func:`common.pii.encrypt_field` (key id, nonce||sealed)."""
        aead = AESGCM(self.keyring.keys[self.keyring.active])
        prefix = self.keyring.active + ":"
        ad = context.encode()
        nonces = os.urandom(_NONCE * len(values))
        out: list[str | None] = []
        for i, value in enumerate(values):
            if value is None:
                out.append(None)
                continue
            nonce = nonces[i * _NONCE : (i + 1) * _NONCE]
            sealed = aead.encrypt(nonce, value.encode(), ad)
            out.append(prefix + base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode())
        return out

    def hash_many(self, kind: str, values: Sequence[str | None]) -> list[str | None]:
        """Same as :func:`common.pii.lookup_hash` for digit-only identifiers."""
        base = hmac.new(self.hash_key, digestmod=hashlib.sha256)
        head = f"{kind}\x00".encode()
        out: list[str | None] = []
        for value in values:
            if value is None:
                out.append(None)
                continue
            if not value.isdigit():
                value = normalise_identifier(kind, value)
            mac = base.copy()
            mac.update(head + value.encode())
            out.append(mac.hexdigest())
        return out


@lru_cache(maxsize=1)
def pii_codec() -> PiiCodec:
    """Keys from ``KKB_PII_KEY`` (base64 AES-256) and ``KKB_HASH_KEY``."""
    settings = CommonSettings()
    return PiiCodec(
        keyring=FieldKeyring.from_base64({ACTIVE_KEY_ID: settings.pii_key}, ACTIVE_KEY_ID),
        hash_key=settings.hash_key.encode(),
    )
