"""The composite cursor of the merged feed: one position per source, opaque to clients.

Each source's positions are final below its own horizon, so remembering where each
source was left is enough for no event to be skipped or served twice, however the
sources' events were interleaved on the page.
"""

import base64
import re
from dataclasses import dataclass, field

import orjson

from common.errors import ProblemError

_POSITION = re.compile(r"^[0-9]+\.[0-9]+$")
_VERSION = 1


@dataclass(frozen=True)
class CompositeCursor:
    positions: dict[str, str] = field(default_factory=dict)

    def position(self, source: str) -> str:
        """Where to resume ``source``; "" (its beginning) for a source not seen yet."""
        return self.positions.get(source, "")

    def advanced(self, moves: dict[str, str]) -> "CompositeCursor":
        return CompositeCursor({**self.positions, **moves})

    def encode(self) -> str:
        raw = orjson.dumps({"v": _VERSION, "p": dict(sorted(self.positions.items()))})
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str | None) -> "CompositeCursor":
        if not cursor:
            return cls()
        try:
            raw = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            positions = raw["p"]
            valid = (
                raw.get("v") == _VERSION
                and isinstance(positions, dict)
                and all(
                    isinstance(k, str) and isinstance(v, str) and (v == "" or _POSITION.match(v))
                    for k, v in positions.items()
                )
            )
        except (ValueError, TypeError, KeyError, orjson.JSONDecodeError):
            valid = False
        if not valid:
            raise ProblemError(
                400,
                "invalid_cursor",
                detail={
                    "en": "The cursor is not one this feed issued; start without `after`.",
                    "id": "Cursor bukan yang diberikan feed ini; mulai tanpa `after`.",
                },
            )
        return cls(dict(positions))
