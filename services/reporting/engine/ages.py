"""Completed months of age as bounds on the birth date, so that an age test in SQL is a
date comparison rather than month arithmetic on every row."""

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

_DAY = timedelta(days=1)


def latest_birth(day: date, months: int) -> date:
    """The last birth date with ``months`` completed months on ``day``: the largest b
    with b + ``months`` months <= ``day`` in PostgreSQL's month arithmetic (the day
    clamped to the end of a shorter month, as relativedelta does). Every earlier birth
    date qualifies too, since b + n months never decreases as b grows."""
    born = day - relativedelta(months=months)
    # Several birth days can land on the same clamped day (Jan 29-31 + 1 month).
    while (born + _DAY) + relativedelta(months=months) <= day:
        born += _DAY
    return born
