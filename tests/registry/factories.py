"""Valid test data built from DOMAIN.md's number formats, independently of the code
under test: NIK = district + DDMMYY (day + 40 for women) + serial; KK = district +
issue date DDMMYY + serial."""

import itertools
import random
import time
import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

KALI_NILAM = "61.04.16.2007"
DELTA_PAWAN = "610416"
# Another village of Delta Pawan, and one in another district of Ketapang.
PAYA_KUMANG = "61.04.16.2008"
SUNGAI_PUTRI = "61.04.01.2011"

# Serials unique across the test session (and across reruns against a kept database).
_serials = itertools.count(random.randint(1, 4000))


def today() -> date:
    return datetime.now(ZoneInfo("Asia/Jakarta")).date()


def serial() -> int:
    return next(_serials) % 9999 + 1


def nik(birth: date, sex: int, district: str = DELTA_PAWAN, number: int | None = None) -> str:
    day = birth.day + (40 if sex == 2 else 0)
    return f"{district}{day:02d}{birth.month:02d}{birth.year % 100:02d}{number or serial():04d}"


def kk(issued: date | None = None, district: str = DELTA_PAWAN) -> str:
    issued = issued or date(2020, 1, 15)
    return f"{district}{issued.day:02d}{issued.month:02d}{issued.year % 100:02d}{serial():04d}"


def years_ago(years: int, days: int = 0) -> date:
    t = today()
    try:
        base = t.replace(year=t.year - years)
    except ValueError:  # 29 February
        base = t.replace(year=t.year - years, day=28)
    return base - timedelta(days=days)


def member(
    name: str,
    sex: int,
    birth: date,
    relationship: int,
    *,
    with_nik: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "full_name": name,
        "sex": sex,
        "birth_date": birth.isoformat(),
        "relationship": relationship,
        **extra,
    }
    if with_nik:
        body["nik"] = nik(birth, sex)
    return body


def household(
    members: list[dict[str, Any]],
    *,
    village: str = KALI_NILAM,
    water: str = "piped",
    sanitation: str = "own_septic",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "kk_number": kk(),
        "village_code": village,
        "dusun": "Dusun Sintetis",
        "rw": "001",
        "rt": "002",
        "address": "Jl. Sintetis No. 1",
        "conditions": {
            "water_source": water,
            "sanitation": sanitation,
            "house_condition": "fit",
            "welfare_decile": 4,
            "extreme_poverty": False,
            "observed_date": today().isoformat(),
        },
        "members": members,
        **extra,
    }


def couple(**extra: Any) -> dict[str, Any]:
    """Husband 30 and wife 26, married, no children: a PUS family."""
    return household(
        [
            member("Budi Sintetis", 1, years_ago(30, 40), 1, marital_status=2),
            member("Sari Sintetis", 2, years_ago(26, 10), 3, marital_status=2),
        ],
        **extra,
    )


def feed_events(feed_client, after: str | None = None) -> list[dict[str, Any]]:
    """Every event visible on the registry feed after ``after`` right now.

    The feed shows a transaction's events only once every older transaction of the
    server has ended, so a fresh commit may take a moment: use :func:`marker`.
    """
    events: list[dict[str, Any]] = []
    cursor = after
    while True:
        params = {"limit": 5000, **({"after": cursor} if cursor else {})}
        page = feed_client.get("/internal/feed", params=params).json()
        events += page["events"]
        cursor = page["next"]
        if not page["has_more"]:
            return events


MARKER_YEAR = 2001
FEED_PATIENCE_S = 300


def marker(feed_client, writer) -> str:
    """Write a harmless event (re-designating a test-only lokus year) and wait until the
    feed shows it: from then on everything committed before is visible too."""
    token = uuid.uuid4().hex
    r = writer.put(
        f"/v1/lokus/{KALI_NILAM}/{MARKER_YEAR}",
        json={"decree_number": token, "decree_date": "2001-01-01"},
    )
    assert r.status_code == 200, r.text
    # Generous: a long transaction anywhere on the server (a bulk seed, another
    # project's tests) holds the feed back until it ends.
    deadline = time.monotonic() + FEED_PATIENCE_S
    while time.monotonic() < deadline:
        for event in reversed(feed_events(feed_client)):
            if event["payload"].get("decree_number") == token:
                return event["position"]
        time.sleep(0.1)
    raise TimeoutError(f"the feed did not show the marker event within {FEED_PATIENCE_S} s")
