"""Subscription secrets at rest: the gateway must sign with them, so they are encrypted
(AES-GCM with the application key), not hashed."""

from common.pii import FieldKeyring, decrypt_field, encrypt_field

CONTEXT = "gateway.webhook.secret"
KEY_ID = "k1"


class SecretBox:
    def __init__(self, key_base64: str) -> None:
        self.keyring = FieldKeyring.from_base64({KEY_ID: key_base64}, KEY_ID)

    def seal(self, secret: str) -> str:
        return encrypt_field(secret, self.keyring, context=CONTEXT)

    def open(self, sealed: str) -> str:
        return decrypt_field(sealed, self.keyring, context=CONTEXT)
