"""The registry's "today": the calendar date in western Indonesia (WIB), where the
registers are kept, not the server's UTC date."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

REGISTRY_TZ = ZoneInfo("Asia/Jakarta")


def today() -> date:
    return datetime.now(REGISTRY_TZ).date()
