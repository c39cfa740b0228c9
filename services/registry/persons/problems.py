"""Domain validation findings rendered as one problem+json (422 unless told)."""

from collections.abc import Sequence

from common.errors import ProblemError, field_error
from services.registry.persons.rules import Issue

Located = tuple[Sequence[str | int], Issue]


def located_problem(found: Sequence[Located], status: int = 422) -> ProblemError:
    """The first issue names the problem; every issue is listed under ``errors``."""
    first = found[0][1]
    return ProblemError(
        status,
        first.code,
        detail=first.message,
        errors=[
            field_error([*loc, *([i.field] if i.field else [])], i.message, i.code)
            for loc, i in found
        ],
    )


def raise_if_invalid(issues: Sequence[Issue], loc: Sequence[str | int] = ("body",)) -> None:
    if issues:
        raise located_problem([(loc, i) for i in issues])
