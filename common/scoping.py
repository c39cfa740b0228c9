"""Region scope in SQL: every read and write of a personal record filters on it.

A caller scoped to ``61.04`` sees codes ``61.04`` and ``61.04.*``; the filter is a
range on the code (``>= '61.04.' AND < '61.04/'``, '/' sorting right after '.'), so a
btree index serves it, never ``LIKE '%…'``.
"""

from common.errors import ProblemError, not_found
from common.i18n import Text
from common.identity import Identity


def in_scope(scope: str, code: str) -> bool:
    return scope == "" or code == scope or code.startswith(scope + ".")


def scope_sql(column: str, param: str = "scope") -> str:
    """SQL condition for ``column`` within the scope bound as ``:{param}``."""
    # COLLATE "C": linguistic collations ignore punctuation, which breaks the range.
    # Region-code columns are declared COLLATE "C" so their indexes serve this.
    return (
        f"(CAST(:{param} AS text) = '' OR {column} = :{param}"
        f" OR ({column} COLLATE \"C\" >= (:{param} || '.')"
        f" AND {column} COLLATE \"C\" < (:{param} || '/')))"
    )


def require_in_scope(caller: Identity, code: str, what: Text = "Record") -> None:
    """A record outside the caller's region is reported as absent (404), never 403."""
    if not in_scope(caller.region, code):
        raise not_found(what)


def require_writable_region(caller: Identity, code: str) -> None:
    """Writing a record into a region outside the caller's scope is refused (403)."""
    if not in_scope(caller.region, code):
        raise ProblemError(
            403,
            "region_out_of_scope",
            detail={
                "en": f"Region {code} is outside your scope ({caller.region or 'national'}).",
                "id": f"Wilayah {code} di luar cakupan Anda ({caller.region or 'nasional'}).",
            },
        )
