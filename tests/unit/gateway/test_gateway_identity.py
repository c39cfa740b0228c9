"""The X-KKB-Identity header: signing, verification, consistency rules."""

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from pydantic import ValidationError

from common.identity import (
    Identity,
    IdentityError,
    IdentityExpired,
    IdentityMissing,
    Role,
    Sector,
    decode_identity,
    encode_identity,
    service_identity,
)

SECRET = "s" * 40
OTHER_SECRET = "t" * 40


def officer() -> Identity:
    return Identity(
        sub="user-7",
        role=Role.SECTOR_OFFICER,
        region="61.04",
        sector=Sector.PUBLIC_WORKS,
        pii=False,
        client_id="web",
        request_id="req-1",
        lang="id",
    )


def test_round_trip() -> None:
    identity = officer()
    assert decode_identity(encode_identity(identity, SECRET), SECRET) == identity


def test_lifetime_is_sixty_seconds() -> None:
    now = datetime.now(UTC)
    token = encode_identity(officer(), SECRET, now=now)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 60
    assert claims["aud"] == "kkb-internal"
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_expired() -> None:
    token = encode_identity(officer(), SECRET, now=datetime.now(UTC) - timedelta(minutes=2))
    with pytest.raises(IdentityExpired) as err:
        decode_identity(token, SECRET)
    assert err.value.status == 401


def test_wrong_secret_and_rotation() -> None:
    token = encode_identity(officer(), OTHER_SECRET)
    with pytest.raises(IdentityError):
        decode_identity(token, SECRET)
    assert decode_identity(token, [SECRET, OTHER_SECRET]).sub == "user-7"


def test_missing() -> None:
    for value in (None, ""):
        with pytest.raises(IdentityMissing):
            decode_identity(value, SECRET)


def test_tampered_and_foreign_tokens() -> None:
    header, body, sig = encode_identity(officer(), SECRET).split(".")
    with pytest.raises(IdentityError):
        decode_identity(f"{header}.{body}x.{sig}", SECRET)
    now = int(datetime.now(UTC).timestamp())
    # Right secret, wrong audience: e.g. a token minted for some other internal use.
    foreign = jwt.encode(
        {"iss": "kkb-gateway", "aud": "elsewhere", "sub": "x", "iat": now, "exp": now + 60},
        SECRET,
        algorithm="HS256",
    )
    with pytest.raises(IdentityError):
        decode_identity(foreign, SECRET)
    no_identity = jwt.encode(
        {"iss": "kkb-gateway", "aud": "kkb-internal", "sub": "x", "iat": now, "exp": now + 60},
        SECRET,
        algorithm="HS256",
    )
    with pytest.raises(IdentityError):
        decode_identity(no_identity, SECRET)


def test_short_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        encode_identity(officer(), "short")


def test_service_identity() -> None:
    identity = service_identity("reporting", request_id="r9")
    assert identity.role is Role.SERVICE
    assert identity.sub == "service:reporting"
    assert identity.region == ""
    assert not identity.pii
    assert decode_identity(encode_identity(identity, SECRET), SECRET) == identity


@pytest.mark.parametrize(
    "fields",
    [
        {"role": "sector_officer", "region": "61.04"},  # no sector
        {"role": "village_operator", "region": "61.04.16.2007", "sector": "health"},
        {"role": "service", "region": ""},  # service without a name
        {"role": "admin", "region": "", "service": "registry"},
        {"role": "admin", "region": "61.0"},
        {"role": "admin", "region": "61.04", "purpose": "curiosity"},
    ],
)
def test_inconsistent_identities_are_rejected(fields: dict) -> None:
    with pytest.raises(ValidationError):
        Identity(sub="u", request_id="r", **fields)


def test_may_unmask_needs_right_and_purpose() -> None:
    base = {"sub": "u", "role": "health_worker", "region": "61.04.16", "request_id": "r"}
    assert not Identity(**base, pii=True).may_unmask
    assert not Identity(**base, pii=False, purpose="service_delivery").may_unmask
    assert Identity(**base, pii=True, purpose="service_delivery").may_unmask
