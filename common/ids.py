"""UUIDv7 ids: time-ordered, so new rows land at the right edge of their indexes."""

import uuid

import uuid_utils


def uuid7() -> uuid.UUID:
    return uuid.UUID(bytes=uuid_utils.uuid7().bytes)
