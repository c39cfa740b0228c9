"""ETag / If-Match for optimistic concurrency on updates (version counters)."""

from fastapi import Request, Response

from common.errors import ProblemError


def etag_for(version: int) -> str:
    return f'W/"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag_for(version)


def required_version(request: Request) -> int:
    """The version the client last saw, from If-Match; missing → 428, malformed → 412."""
    header = request.headers.get("if-match")
    if not header:
        raise ProblemError(
            428,
            detail={
                "en": "Send the record's ETag in If-Match to update it.",
                "id": "Kirim ETag data pada header If-Match untuk mengubahnya.",
            },
        )
    value = header.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise stale()
    return int(value)


def stale() -> ProblemError:
    return ProblemError(
        412,
        "stale_version",
        detail={
            "en": "The record was changed by someone else; reload it and try again.",
            "id": "Data telah diubah orang lain; muat ulang lalu coba lagi.",
        },
    )
