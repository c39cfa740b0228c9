"""How a service tells the gateway what personal data a response exposed.

The gateway writes the audit entry (it knows who, how and why); only the service knows
which records and fields were shown unmasked, so it says so in ``X-KKB-Audit``, which
the gateway records and strips before the response leaves.
"""

import orjson
from fastapi import Response

AUDIT_HEADER = "X-KKB-Audit"


def mark_audit(
    response: Response,
    *,
    record_type: str,
    record_ids: list[str],
    subject_ids: list[str] | None = None,
    fields: list[str] | None = None,
    unmasked: bool = False,
) -> None:
    response.headers[AUDIT_HEADER] = orjson.dumps(
        {
            "record_type": record_type,
            "record_ids": record_ids[:200],
            "subject_ids": (subject_ids or [])[:200],
            "fields": fields or [],
            "unmasked": unmasked,
        }
    ).decode()
