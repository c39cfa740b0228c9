"""Domain rule violations rendered as one problem+json."""

from collections.abc import Sequence

from common.errors import ProblemError, field_error
from services.interventions.catalogue.rules import Violation

# Violations that describe the state of a record rather than malformed input.
STATUS_BY_CODE: dict[str, int] = {
    "illegal_transition": 409,
    "not_receiver": 403,
    "not_sender": 403,
    "already_retired": 409,
    "duplicate_code": 409,
    "unknown_intervention": 404,
}


def violation_problem(
    found: Sequence[Violation], loc: Sequence[str | int] = ("body",), status: int | None = None
) -> ProblemError:
    """The first violation names the problem; all of them are listed under ``errors``."""
    first = found[0]
    return ProblemError(
        status or STATUS_BY_CODE.get(first.code, 422),
        first.code,
        detail=first.message,
        errors=[field_error([*loc, *([v.loc] if v.loc else [])], v.message, v.code) for v in found],
    )


def raise_violations(found: Sequence[Violation], loc: Sequence[str | int] = ("body",)) -> None:
    if found:
        raise violation_problem(found, loc)
