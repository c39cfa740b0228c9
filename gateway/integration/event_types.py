"""Which permission lets a caller see each kind of event: data, not code.

An event type is visible to a caller whose role (or, for a system client, whose scopes)
allows the operation named here, e.g. ``measurement.*`` needs ``registry.measurement.read``
(the ``growth:read`` scope). A type not listed here is shown to nobody.
"""

from collections.abc import Iterable

from common.identity import Identity
from common.permissions import Operation, allowed

# Event families (the text before the first dot) and the read operation each needs.
FAMILY_OPERATION: dict[str, Operation] = {
    "household": Operation.HOUSEHOLD_READ,
    "person": Operation.PERSON_READ,
    "life_event": Operation.PERSON_READ,
    "krs": Operation.KRS_READ,
    "measurement": Operation.MEASUREMENT_READ,
    "site": Operation.SITE_READ,
    "lokus": Operation.SITE_READ,
    "delivery": Operation.DELIVERY_READ,
    "referral": Operation.REFERRAL_READ,
    "tpk": Operation.TPK_READ,
    "target": Operation.TARGET_READ,
}

# Every event type the services publish (docs/CONTRACTS.md), for validating subscriptions.
KNOWN_TYPES: frozenset[str] = frozenset(
    {
        "household.registered",
        "household.updated",
        "person.registered",
        "person.updated",
        "person.moved",
        "person.died",
        "person.merged",
        "life_event.recorded",
        "life_event.updated",
        "krs.assessed",
        "measurement.recorded",
        "measurement.corrected",
        "site.registered",
        "site.updated",
        "lokus.designated",
        "lokus.revoked",
        "delivery.recorded",
        "delivery.corrected",
        "delivery.voided",
        "referral.created",
        "referral.transitioned",
        "tpk.visit.recorded",
        "target.snapshot",
    }
)


def family(event_type: str) -> str:
    return event_type.partition(".")[0]


def required_operation(event_type: str) -> Operation | None:
    return FAMILY_OPERATION.get(family(event_type))


def may_see_type(identity: Identity, event_type: str) -> bool:
    op = required_operation(event_type)
    return op is not None and allowed(
        identity.role, op, sector=identity.sector, scopes=identity.scopes
    )


def matches(patterns: Iterable[str], event_type: str) -> bool:
    """``"*"`` matches all, ``"measurement.*"`` a family, anything else one exact type."""
    for pattern in patterns:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def pattern_known(pattern: str) -> bool:
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return pattern[:-2] in FAMILY_OPERATION
    return pattern in KNOWN_TYPES


def pattern_permitted(identity: Identity, pattern: str) -> bool:
    """A subscription may name only types its owner could read; ``*`` means "what I may"."""
    if pattern == "*":
        return True
    return may_see_type(identity, pattern[:-2] + ".x" if pattern.endswith(".*") else pattern)
