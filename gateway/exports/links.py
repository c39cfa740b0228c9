"""Download links that expire: an HMAC over the job, the file and the expiry time.

A link works without a bearer token (so a download tool can fetch it) until it
expires; anyone holding it may download, so it is short-lived and every download is
audited in the name of the job's owner. The key is derived from the internal secret.
"""

import base64
import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote, urlencode

_CONTEXT = b"kkb-export-link-v1"


class LinkCheck(StrEnum):
    ok = "ok"
    invalid = "invalid"
    expired = "expired"


@dataclass(frozen=True)
class LinkSigner:
    key: bytes

    @classmethod
    def from_secret(cls, secret: str) -> "LinkSigner":
        return cls(hmac.new(secret.encode(), _CONTEXT, hashlib.sha256).digest())

    def signature(self, job_id: str, name: str, expires: int) -> str:
        message = f"{job_id}\n{name}\n{expires}".encode()
        digest = hmac.new(self.key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def url(self, base: str, job_id: str, name: str, expires: int) -> str:
        query = urlencode({"expires": expires, "sig": self.signature(job_id, name, expires)})
        return f"{base}/v1/exports/{job_id}/files/{quote(name)}?{query}"

    def check(self, job_id: str, name: str, expires: int, sig: str, now: float) -> LinkCheck:
        """Invalid before expired: a forged link learns nothing about expiry."""
        if not hmac.compare_digest(self.signature(job_id, name, expires), sig):
            return LinkCheck.invalid
        return LinkCheck.expired if now >= expires else LinkCheck.ok
