"""Cursor pagination: opaque cursors over a stable sort key, bounded page sizes."""

import base64
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

from common.errors import ProblemError

T = TypeVar("T")
MAX_LIMIT = 500


def encode_cursor(key: list[Any]) -> str:
    raw = json.dumps(key, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProblemError(
            400,
            "invalid_cursor",
            detail={
                "en": "The cursor is not one this API issued; start from the first page.",
                "id": "Cursor tidak dikenal; mulai dari halaman pertama.",
            },
        ) from exc
    if not isinstance(key, list):
        raise ProblemError(400, "invalid_cursor", detail="Malformed cursor.")
    return key


class PageParams(BaseModel):
    limit: int
    after: list[Any] | None


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (1–500).")] = 50,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
) -> PageParams:
    return PageParams(limit=limit, after=decode_cursor(cursor) if cursor else None)


Page = Annotated[PageParams, Depends(page_params)]


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def paginate(rows: list[T], page: PageParams, key: Any) -> PageOut[T]:
    """Rows were fetched with ``limit + 1``; the extra row says whether there is a next page."""
    if len(rows) > page.limit:
        rows = rows[: page.limit]
        return PageOut(items=rows, next_cursor=encode_cursor(key(rows[-1])))
    return PageOut(items=rows, next_cursor=None)
