"""Async client for the Dukcapil web service (shape from public client code, DOMAIN.md).

``POST {base}/dukcapil/get_json/{institution_path}/{METHOD}`` with a JSON body:

- ``CALL_NIK``: ``{"nik", "user_id", "password", "ip_user"}`` (DOMAIN.md).
- ``CALL_KK``: ``{"no_kk", "user_id", "password", "ip_user"}``. ASSUMPTION: no public
  source shows a KK method; the name and body follow ``CALL_NIK``'s pattern. Check it
  against the cooperation agreement's technical annex before production use.
- ``CALL_VERIFY_BY_ELEMEN``: uppercase keys ``{"USER_ID", "PASSWORD", "IP_USER",
  "TRESHOLD", "NIK", <element fields>}`` (spelling "TRESHOLD" as in public client code);
  answers per field "Sesuai" / "Tidak Sesuai", names with a score ("Sesuai (100)").

Every outcome is one of ``ResultKind``; retries (with backoff) happen only on timeouts
and connection errors of these read-only lookups, never on an answer such as "Login
Gagal" or "Kuota Akses Hari ini telah Habis". A circuit breaker, a client-side rate
limiter with the daily quota, and a short cache keyed by an HMAC of the number sit in
front of the network. NIKs travel only in request bodies; logs carry ``ref``, a short
prefix of the keyed hash.
"""

import asyncio
import random
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import httpx
import structlog

from services.registry.dukcapil.breaker import (
    CircuitBreaker,
    CircuitState,
    QuotaExhausted,
    RateLimiter,
    Sleep,
    TtlCache,
    keyed_digest,
    log_ref,
)
from services.registry.dukcapil.mapping import (
    NIK_LENGTH,
    MappedPerson,
    MappingError,
    from_dukcapil,
)

log = structlog.get_logger(__name__)

CALL_NIK = "CALL_NIK"
CALL_KK = "CALL_KK"
CALL_VERIFY_BY_ELEMEN = "CALL_VERIFY_BY_ELEMEN"


class ResultKind(StrEnum):
    FOUND = "found"
    NOT_FOUND = "not_found"
    AUTH_FAILED = "auth_failed"
    IP_REJECTED = "ip_rejected"
    QUOTA_EXHAUSTED = "quota_exhausted"
    UNAVAILABLE = "unavailable"


# Stable machine codes with their Indonesian and English messages.
MESSAGES: dict[str, dict[str, str]] = {
    "dukcapil_found": {"id": "Data ditemukan di Dukcapil.", "en": "Record found at Dukcapil."},
    "dukcapil_not_found": {
        "id": "Data tidak ditemukan di Dukcapil.",
        "en": "No record found at Dukcapil.",
    },
    "dukcapil_auth_failed": {
        "id": "Login ke layanan Dukcapil gagal; periksa user id dan kata sandi.",
        "en": "Login to the Dukcapil service failed; check the user id and password.",
    },
    "dukcapil_ip_rejected": {
        "id": "Alamat IP klien tidak sesuai dengan yang terdaftar di Dukcapil.",
        "en": "The client IP address is not the one registered with Dukcapil.",
    },
    "dukcapil_quota_exhausted": {
        "id": "Kuota akses Dukcapil hari ini telah habis.",
        "en": "Today's Dukcapil access quota is used up.",
    },
    "dukcapil_quota_local": {
        "id": "Batas harian akses Dukcapil aplikasi ini telah tercapai.",
        "en": "This application's daily Dukcapil call budget is used up.",
    },
    "dukcapil_timeout": {
        "id": "Layanan Dukcapil tidak menjawab tepat waktu.",
        "en": "The Dukcapil service did not answer in time.",
    },
    "dukcapil_connect_error": {
        "id": "Tidak dapat terhubung ke layanan Dukcapil.",
        "en": "Cannot connect to the Dukcapil service.",
    },
    "dukcapil_server_error": {
        "id": "Layanan Dukcapil sedang bermasalah.",
        "en": "The Dukcapil service reported an error.",
    },
    "dukcapil_circuit_open": {
        "id": "Layanan Dukcapil sementara tidak dihubungi karena gangguan berulang.",
        "en": "The Dukcapil service is paused after repeated failures.",
    },
    "dukcapil_rate_limited": {
        "id": "Terlalu banyak permintaan ke Dukcapil; coba lagi sebentar.",
        "en": "Too many requests to Dukcapil; try again shortly.",
    },
    "dukcapil_bad_response": {
        "id": "Jawaban layanan Dukcapil tidak dapat dibaca.",
        "en": "The Dukcapil service's answer cannot be read.",
    },
    "dukcapil_invalid_nik": {
        "id": "NIK harus 16 digit angka.",
        "en": "A NIK has 16 digits.",
    },
    "dukcapil_invalid_kk": {
        "id": "Nomor KK harus 16 digit angka.",
        "en": "A KK number has 16 digits.",
    },
}


class InvalidIdentifier(ValueError):
    """A NIK or KK number that is not 16 digits; no call is made (it would cost quota)."""

    def __init__(self, code: str) -> None:
        super().__init__(MESSAGES[code]["en"])
        self.code = code
        self.message = MESSAGES[code]


@dataclass(frozen=True)
class LookupResult:
    kind: ResultKind
    code: str  # a key of MESSAGES
    persons: tuple[MappedPerson, ...] = ()
    from_cache: bool = False

    @property
    def message(self) -> dict[str, str]:
        return MESSAGES[self.code]

    @property
    def person(self) -> MappedPerson | None:
        return self.persons[0] if self.persons else None


@dataclass(frozen=True)
class ElementVerdict:
    matches: bool
    score: float | None  # similarity 0-100 for names and addresses
    raw: str


@dataclass(frozen=True)
class VerifyResult:
    kind: ResultKind
    code: str
    elements: dict[str, ElementVerdict] = field(default_factory=dict)

    @property
    def message(self) -> dict[str, str]:
        return MESSAGES[self.code]


_RESPONSES = (
    ("login gagal", ResultKind.AUTH_FAILED, "dukcapil_auth_failed"),
    ("ip address", ResultKind.IP_REJECTED, "dukcapil_ip_rejected"),
    ("kuota", ResultKind.QUOTA_EXHAUSTED, "dukcapil_quota_exhausted"),
    ("tidak ditemukan", ResultKind.NOT_FOUND, "dukcapil_not_found"),
)


def classify_answer(payload: Any) -> tuple[ResultKind, str, list[dict[str, Any]]]:
    """Kind, message code and content records of a decoded Dukcapil answer."""
    if payload == {}:
        return ResultKind.NOT_FOUND, "dukcapil_not_found", []
    content = payload.get("content") if isinstance(payload, dict) else None
    if not isinstance(content, list) or not all(isinstance(r, dict) for r in content):
        return ResultKind.UNAVAILABLE, "dukcapil_bad_response", []
    if not content:
        return ResultKind.NOT_FOUND, "dukcapil_not_found", []
    respon = content[0].get("RESPON", content[0].get("RESPONSE"))
    if respon is not None:
        text = str(respon).casefold()
        for fragment, kind, code in _RESPONSES:
            if fragment in text:
                return kind, code, []
        return ResultKind.UNAVAILABLE, "dukcapil_bad_response", []
    return ResultKind.FOUND, "dukcapil_found", content


_VERDICT = re.compile(r"^\s*(tidak\s+)?sesuai\s*(?:\((\d+(?:[.,]\d+)?)\))?\s*$", re.IGNORECASE)


def parse_verdicts(record: Mapping[str, Any]) -> dict[str, ElementVerdict] | None:
    """Per-field verdicts of a CALL_VERIFY_BY_ELEMEN answer; None if any is unreadable."""
    verdicts = {}
    for name, value in record.items():
        m = _VERDICT.match(str(value))
        if m is None:
            return None
        score = float(m[2].replace(",", ".")) if m[2] else None
        verdicts[name] = ElementVerdict(matches=m[1] is None, score=score, raw=str(value))
    return verdicts


def _checked_number(value: str, code: str) -> str:
    text = value.strip()
    if len(text) != NIK_LENGTH or not (text.isdigit() and text.isascii()):
        raise InvalidIdentifier(code)
    return text


@dataclass(frozen=True)
class _Answer:
    kind: ResultKind
    code: str
    content: list[dict[str, Any]]


class DukcapilClient:
    """One client per institution credential set; share it for the app's lifetime."""

    def __init__(
        self,
        *,
        base_url: str,
        institution_path: str,
        user_id: str,
        password: str,
        ip_user: str,
        hash_key: bytes,
        timeout_s: float = 10.0,
        connect_timeout_s: float = 3.0,
        max_attempts: int = 3,
        backoff_base_s: float = 0.2,
        max_rate_wait_s: float = 5.0,
        rate_per_s: float = 5.0,
        daily_quota: int = 10_000,
        cache_ttl_s: float = 300.0,
        breaker: CircuitBreaker | None = None,
        limiter: RateLimiter | None = None,
        cache: TtlCache[LookupResult] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if not hash_key:
            raise ValueError("hash_key must not be empty")
        self._institution_path = institution_path.strip("/")
        self._credentials = {"user_id": user_id, "password": password, "ip_user": ip_user}
        self._hash_key = hash_key
        self._max_attempts = max_attempts
        self._backoff_base_s = backoff_base_s
        self._max_rate_wait_s = max_rate_wait_s
        self._sleep = sleep
        self.breaker = breaker or CircuitBreaker()
        self.limiter = limiter or RateLimiter(rate_per_s=rate_per_s, daily_quota=daily_quota)
        self.cache: TtlCache[LookupResult] = cache or TtlCache(ttl_s=cache_ttl_s)
        self._http = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
            transport=transport,
            headers={"Accept": "application/json"},
        )

    async def __aenter__(self) -> "DukcapilClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def get_by_nik(self, nik: str) -> LookupResult:
        """The person with this NIK (``persons`` has one element when found)."""
        nik = _checked_number(nik, "dukcapil_invalid_nik")
        body = {"nik": nik, **self._credentials}
        return await self._lookup(CALL_NIK, body, keyed_digest(self._hash_key, "nik:" + nik))

    async def get_by_kk(self, kk_number: str) -> LookupResult:
        """The members of the family card (method name CALL_KK is an assumption)."""
        kk_number = _checked_number(kk_number, "dukcapil_invalid_kk")
        body = {"no_kk": kk_number, **self._credentials}
        return await self._lookup(CALL_KK, body, keyed_digest(self._hash_key, "kk:" + kk_number))

    async def verify_by_elements(
        self, nik: str, elements: Mapping[str, Any], threshold: int = 80
    ) -> VerifyResult:
        """Does Dukcapil agree with these fields (NAMA_LGKP, TGL_LHR, ...) for the NIK?"""
        nik = _checked_number(nik, "dukcapil_invalid_nik")
        body = {
            "USER_ID": self._credentials["user_id"],
            "PASSWORD": self._credentials["password"],
            "IP_USER": self._credentials["ip_user"],
            "TRESHOLD": str(threshold),
            "NIK": nik,
            **{k: v for k, v in elements.items() if k != "NIK"},
        }
        ref = log_ref(keyed_digest(self._hash_key, "nik:" + nik))
        answer = await self._call(CALL_VERIFY_BY_ELEMEN, body, ref)
        if answer.kind is not ResultKind.FOUND:
            return VerifyResult(answer.kind, answer.code)
        verdicts = parse_verdicts(answer.content[0])
        if verdicts is None:
            return VerifyResult(ResultKind.UNAVAILABLE, "dukcapil_bad_response")
        return VerifyResult(ResultKind.FOUND, "dukcapil_found", verdicts)

    async def _lookup(self, method: str, body: dict[str, Any], digest: str) -> LookupResult:
        cache_key = f"{method}:{digest}"
        cached = self.cache.get(cache_key)
        if cached is not None:
            log.info("dukcapil_cache_hit", method=method, ref=log_ref(digest), kind=cached.kind)
            return LookupResult(cached.kind, cached.code, cached.persons, from_cache=True)
        answer = await self._call(method, body, log_ref(digest))
        result = LookupResult(answer.kind, answer.code)
        if answer.kind is ResultKind.FOUND:
            try:
                persons = tuple(from_dukcapil(record) for record in answer.content)
            except MappingError as exc:
                log.warning(
                    "dukcapil_unmappable_record",
                    method=method,
                    ref=log_ref(digest),
                    field=exc.field,
                )
                return LookupResult(ResultKind.UNAVAILABLE, "dukcapil_bad_response")
            result = LookupResult(ResultKind.FOUND, "dukcapil_found", persons)
        if result.kind in (ResultKind.FOUND, ResultKind.NOT_FOUND):
            self.cache.put(cache_key, result)
        return result

    async def _call(self, method: str, body: dict[str, Any], ref: str) -> _Answer:
        path = f"dukcapil/get_json/{self._institution_path}/{method}"
        failure = "dukcapil_connect_error"
        for attempt in range(1, self._max_attempts + 1):
            if attempt > 1:
                # Exponential backoff with jitter so parallel callers spread out.
                delay = self._backoff_base_s * 2 ** (attempt - 2) * (1 + random.random())
                await self._sleep(delay)
            if self.breaker.state is CircuitState.OPEN:
                return self._logged(
                    method, ref, attempt, ResultKind.UNAVAILABLE, "dukcapil_circuit_open"
                )
            try:
                await self.limiter.acquire(self._max_rate_wait_s)
            except QuotaExhausted:
                return self._logged(
                    method, ref, attempt, ResultKind.QUOTA_EXHAUSTED, "dukcapil_quota_local"
                )
            except TimeoutError:
                return self._logged(
                    method, ref, attempt, ResultKind.UNAVAILABLE, "dukcapil_rate_limited"
                )
            if not self.breaker.allow():
                return self._logged(
                    method, ref, attempt, ResultKind.UNAVAILABLE, "dukcapil_circuit_open"
                )

            started = time.perf_counter()
            try:
                response = await self._http.post(path, json=body)
            except httpx.TimeoutException:
                self.breaker.record_failure()
                failure = "dukcapil_timeout"
                self._log(method, ref, attempt, "unavailable", failure, started)
                continue
            except httpx.ConnectError:
                self.breaker.record_failure()
                failure = "dukcapil_connect_error"
                self._log(method, ref, attempt, "unavailable", failure, started)
                continue
            except httpx.TransportError:
                self.breaker.record_failure()
                self._log(method, ref, attempt, "unavailable", "dukcapil_connect_error", started)
                return _Answer(ResultKind.UNAVAILABLE, "dukcapil_connect_error", [])

            answer = self._answer(response)
            if answer.code in ("dukcapil_server_error", "dukcapil_bad_response"):
                self.breaker.record_failure()
            else:
                self.breaker.record_success()
            if answer.kind is ResultKind.QUOTA_EXHAUSTED:
                self.limiter.exhaust_today()
            self._log(method, ref, attempt, answer.kind, answer.code, started, response.status_code)
            return answer
        return _Answer(ResultKind.UNAVAILABLE, failure, [])

    @staticmethod
    def _answer(response: httpx.Response) -> _Answer:
        if response.status_code >= 500:
            return _Answer(ResultKind.UNAVAILABLE, "dukcapil_server_error", [])
        if response.status_code == 429:
            return _Answer(ResultKind.UNAVAILABLE, "dukcapil_rate_limited", [])
        try:
            payload = response.json()
        except ValueError:
            return _Answer(ResultKind.UNAVAILABLE, "dukcapil_bad_response", [])
        kind, code, content = classify_answer(payload)
        if response.status_code >= 400 and kind is ResultKind.FOUND:
            return _Answer(ResultKind.UNAVAILABLE, "dukcapil_bad_response", [])
        return _Answer(kind, code, content)

    def _logged(self, method: str, ref: str, attempt: int, kind: ResultKind, code: str) -> _Answer:
        log.info(
            "dukcapil_call_skipped", method=method, ref=ref, attempt=attempt, kind=kind, code=code
        )
        return _Answer(kind, code, [])

    @staticmethod
    def _log(
        method: str,
        ref: str,
        attempt: int,
        kind: str,
        code: str,
        started: float,
        status: int | None = None,
    ) -> None:
        log.info(
            "dukcapil_call",
            method=method,
            ref=ref,
            attempt=attempt,
            kind=str(kind),
            code=code,
            status=status,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
        )
