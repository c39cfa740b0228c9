"""Pure parts of the Dukcapil integration: the extract layout, labels to codes, the
keyed hash the SQL computes, and what a web-service answer means for a person."""

import hashlib
import hmac
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from common.pii import lookup_hash
from services.registry.dukcapil.client import LookupResult, ResultKind
from services.registry.dukcapil.extract import (
    DEATH_DATE,
    ExtractFormatError,
    code_of,
    layout_of_header,
)
from services.registry.dukcapil.mapping import MappedPerson, RegistryPerson
from services.registry.dukcapil.staging import hmac_pads
from services.registry.dukcapil.verification import (
    identity_differences,
    next_quota_day,
    outcome_of,
    retry_delay,
)

HEADER = (
    "NIK,NO_KK,NAMA_LGKP,TMPT_LHR,TGL_LHR,JENIS_KLMIN,AGAMA,STATUS_KAWIN,STAT_HBKEL,"
    "NO_PROP,NO_KAB,NO_KEC,NO_KEL"
)


def test_layout_reads_any_delimiter_and_case():
    layout = layout_of_header(HEADER.replace(",", ";").lower() + ";Tgl Kematian;GOL_DARAH")
    assert layout.delimiter == ";"
    assert layout.position("NIK") == 0 and layout.position("NO_KEL") == 12
    assert layout.position(DEATH_DATE) == 13  # "Tgl Kematian" is the death date
    assert layout.position("GOL_DARAH") is None  # read and ignored
    assert layout_of_header("\ufeff" + HEADER.replace(",", "\t")).delimiter == "\t"


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("NIK,NAMA_LGKP,TGL_LHR", "extract_missing_columns"),
        (HEADER + ",NIK", "extract_repeated_column"),
        ("just text", "extract_not_delimited"),
    ],
)
def test_layout_refuses_what_is_not_an_extract(header, code):
    with pytest.raises(ExtractFormatError) as caught:
        layout_of_header(header)
    assert caught.value.code == code
    assert caught.value.message["id"] and caught.value.message["en"]


@pytest.mark.parametrize(
    ("column", "raw", "code"),
    [
        ("JENIS_KLMIN", "PEREMPUAN", 2),
        ("JENIS_KLMIN", "L", 1),
        ("AGAMA", "KATOLIK", 3),
        ("AGAMA", "5", 5),
        ("STATUS_KAWIN", "KAWIN TERCATAT", 2),
        ("STAT_HBKEL", "ANAK", 4),
        ("STAT_HBKEL", "04", 4),
        ("PDDK_AKH", "SLTA/SEDERAJAT", 5),
        ("JENIS_PKRJN", "WIRASWASTA", 88),
        ("AGAMA", "BUKAN AGAMA", None),
    ],
)
def test_labels_and_numbers_map_to_siak_codes(column, raw, code):
    assert code_of(column, raw) == code


def test_hmac_pads_give_the_lookup_hash():
    key = b"a-lookup-hash-key-of-some-length"
    ipad, opad = hmac_pads(key)
    nik = "6104164507900001"
    inner = hashlib.sha256(ipad + b"nik\x00" + nik.encode()).digest()
    assert hashlib.sha256(opad + inner).hexdigest() == lookup_hash("nik", nik, key)
    long_key = b"k" * 100  # longer than a block: hashed first, as RFC 2104 says
    ipad, opad = hmac_pads(long_key)
    inner = hashlib.sha256(ipad + b"kk_number\x00" + nik.encode()).digest()
    expected = hmac.new(long_key, b"kk_number\x00" + nik.encode(), hashlib.sha256).hexdigest()
    assert hashlib.sha256(opad + inner).hexdigest() == expected


PERSON = RegistryPerson(
    nik="6104164507900001",
    kk_number="6104160101200001",
    full_name="Siti Sintetis",
    birth_place="Ketapang",
    birth_date=date(1990, 7, 5),
    sex=2,
    religion=1,
    marital_status=2,
    relationship=3,
    education=5,
    occupation=2,
    mother_nik=None,
    mother_name="Aminah Sintetis",
    village_code="61.04.16.2007",
    rt=1,
    rw=2,
    dusun="Dusun I",
    address="Jl. Sintetis 1",
)
NOW = datetime(2026, 7, 1, 3, 0, tzinfo=UTC)


def found(person: RegistryPerson) -> LookupResult:
    return LookupResult(ResultKind.FOUND, "dukcapil_found", (MappedPerson(person, None),))


def outcome(result: LookupResult, registry: RegistryPerson = PERSON, attempts: int = 1):
    return outcome_of(result, registry, now=NOW, attempts=attempts, retry_base_s=5, retry_max_s=600)


def test_matching_record_is_verified_whatever_the_case_or_job():
    dukcapil = replace(PERSON, full_name="SITI  SINTETIS", occupation=88, address="JL X")
    result = outcome(found(dukcapil))
    assert (result.status, result.differences, result.answered) == ("verified", (), True)


def test_identity_fields_recorded_otherwise_differ():
    dukcapil = replace(PERSON, full_name="Siti Lain", birth_date=date(1990, 7, 6))
    result = outcome(found(dukcapil))
    assert result.status == "differs"
    assert result.differences == ("full_name", "birth_date")


def test_what_the_registry_did_not_record_does_not_differ():
    registry = replace(PERSON, birth_place=None, mother_name=None, religion=None)
    assert identity_differences(registry, PERSON) == []


def test_not_found_and_failures():
    assert outcome(LookupResult(ResultKind.NOT_FOUND, "dukcapil_not_found")).status == "not_found"
    down = outcome(LookupResult(ResultKind.UNAVAILABLE, "dukcapil_connect_error"), attempts=3)
    assert (down.status, down.answered) == ("unverified", False)
    assert down.retry_at == NOW + timedelta(seconds=20)
    quota = outcome(LookupResult(ResultKind.QUOTA_EXHAUSTED, "dukcapil_quota_exhausted"))
    # 03:00 UTC is 10:00 WIB: the quota returns just after midnight WIB, 17:05 UTC.
    assert quota.retry_at == datetime(2026, 7, 1, 17, 5, tzinfo=UTC)


def test_retry_delay_doubles_up_to_the_cap():
    assert [retry_delay(n, 5, 60).total_seconds() for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]
    assert next_quota_day(datetime(2026, 7, 1, 18, 0, tzinfo=UTC)).date() == date(2026, 7, 3)
