"""Region-scope rules on dotted Kemendagri codes (``PP.KK.CC.DDDD``).

A caller's scope is a code prefix: ``""`` (national), a province ``61``, a regency
``61.04``, a district ``61.04.16`` or a village ``61.04.16.2007``. A scope covers a
record when the record's code equals it or continues it at a segment boundary, so
``61.04`` covers ``61.04.16.2007`` but not ``61.041``.
"""

import re
from enum import IntEnum

from common.identity import REGION_SCOPE_PATTERN

_SCOPE = re.compile(REGION_SCOPE_PATTERN)
_SEGMENT_WIDTHS = (2, 2, 2, 4)
# "/" is the character right after "." in byte order, so "61.04" <= code < "61.04/"
# holds exactly for "61.04" and the codes under it ("61.040" sorts after "61.04/").
_RANGE_END = chr(ord(".") + 1)
# Every code starts with a digit, and ":" sorts right after "9".
_NATIONAL_UPPER = chr(ord("9") + 1)


class RegionLevel(IntEnum):
    """The depth of a code: the number of its segments."""

    NATIONAL = 0
    PROVINCE = 1
    REGENCY = 2
    DISTRICT = 3
    VILLAGE = 4

    @property
    def label(self) -> str:
        return self.name.lower()


class InvalidRegionScope(ValueError):
    code = "region_scope_invalid"
    status = 422
    message = {
        "id": "Kode wilayah tidak sah; gunakan kode Kemendagri bertitik, mis. 61.04.16.2007.",
        "en": "Invalid region code; use a dotted Kemendagri code such as 61.04.16.2007.",
    }


def is_valid_scope(code: str) -> bool:
    """A well-formed scope prefix (``""`` included)."""
    return _SCOPE.fullmatch(code) is not None


def is_valid_code(code: str) -> bool:
    """A well-formed region code, i.e. a non-national scope."""
    return code != "" and is_valid_scope(code)


def validate_scope(code: str) -> str:
    if not is_valid_scope(code):
        raise InvalidRegionScope(f"invalid region scope {code!r}")
    return code


def level_of(code: str) -> RegionLevel:
    validate_scope(code)
    return RegionLevel(0 if code == "" else code.count(".") + 1)


def in_scope(caller_prefix: str, record_code: str) -> bool:
    """Does a caller scoped to ``caller_prefix`` reach a record in ``record_code``?

    An invalid caller prefix raises (it is a bug or a forged claim, never a reason to
    grant); a malformed record code is simply out of every regional scope.
    """
    validate_scope(caller_prefix)
    if not is_valid_code(record_code):
        return False
    if caller_prefix == "":
        return True
    return record_code == caller_prefix or record_code.startswith(caller_prefix + ".")


def can_assign(granter_scope: str, granted_scope: str) -> bool:
    """May someone scoped to ``granter_scope`` give another user ``granted_scope``?

    Only within their own scope: an admin of 61.04 may grant 61.04 or 61.04.16, never
    61 or 62; only a national admin may grant national scope.
    """
    validate_scope(granter_scope)
    if not is_valid_scope(granted_scope):
        return False
    if granted_scope == "":
        return granter_scope == ""
    return in_scope(granter_scope, granted_scope)


def prefix_range(prefix: str) -> tuple[str, str]:
    """``(lower, upper)`` with ``lower <= code < upper`` selecting the scope's codes.

    Lets a plain btree index on the code column serve scope filters. The comparison
    must be bytewise: declare the column ``COLLATE "C"`` (or compare with
    ``COLLATE "C"``), since linguistic collations ignore punctuation.
    """
    validate_scope(prefix)
    if prefix == "":
        return "", _NATIONAL_UPPER
    return prefix, prefix + _RANGE_END


def from_compact(digits: str) -> str:
    """Dukcapil/NIK form to dotted: ``"6104162007"`` -> ``"61.04.16.2007"``."""
    parts: list[str] = []
    rest = digits
    for width in _SEGMENT_WIDTHS:
        if not rest:
            break
        parts.append(rest[:width])
        rest = rest[width:]
    code = ".".join(parts)
    if rest or not is_valid_code(code):
        raise InvalidRegionScope(f"invalid compact region code {digits!r}")
    return code
