"""The SQL twin of ``target_groups.target_groups`` for the bulk paths, as JSON text.

It covers a person alive on the day with no ``marital_status_since`` and no delivery:
the groups that follow from birth date, sex and marital status (PUS, baduta, balita,
remaja putri), and, where the caller has them from life events, catin and ibu hamil.
The Dukcapil import takes everyone else to the rules themselves (``dukcapil/publish``);
the seed makes no one else.

PostgreSQL's ``date + interval 'n months'`` clamps to the end of a shorter month exactly
like ``persons.rules.add_months``. Window lengths are written into the text: a constant
interval is parsed once per statement, a cast parameter once per row.
tests/dukcapil and tests/registry/test_registry_seed.py compare it with the rules.
"""

from common.json_sql import NULL, json_array, json_object, json_value
from services.registry.codelists import FEMALE, MARRIED
from services.registry.events.target_groups import (
    BADUTA_MONTHS,
    BALITA_MONTHS,
    PUS_AGE,
    REMAJA_PUTRI_AGE,
    TargetGroup,
)


def _after(p: str, amount: int, unit: str) -> str:
    return f"({p}.birth_date + interval '{amount} {unit}')::date"


def group_object_sql(name: TargetGroup, start: str, end: str) -> str:
    """The JSON text of one membership (``groups_of``): dates ``start`` and ``end``."""
    return json_object(
        [
            ("group", f"""'"{name.value}"'"""),
            ("start", NULL if start == "NULL" else json_value(start)),
            ("end", NULL if end == "NULL" else json_value(end)),
        ]
    )


def _group(name: TargetGroup, holds: str, start: str, end: str) -> str:
    return f"CASE WHEN {holds} THEN {group_object_sql(name, start, end)} END"


def target_groups_sql(
    p: str, as_of: str, *, catin: str = "NULL", pregnancy_start: str = "NULL"
) -> str:
    """A JSON array text: the groups of the person row ``p`` (``birth_date``, ``sex``,
    ``marital_status``) on the date expression ``as_of``, in ``target_groups`` order.

    ``catin``: the person's catin memberships as comma-joined objects
    (``group_object_sql``), or NULL; ``pregnancy_start``: the start of the pregnancy
    running on the day, or NULL."""
    pus_from, pus_until = _after(p, PUS_AGE[0], "years"), _after(p, PUS_AGE[1] + 1, "years")
    girl_from = _after(p, REMAJA_PUTRI_AGE[0], "years")
    girl_until = _after(p, REMAJA_PUTRI_AGE[1] + 1, "years")
    baduta_until = _after(p, BADUTA_MONTHS, "months")
    balita_until = _after(p, BALITA_MONTHS, "months")
    groups = [
        catin if catin != "NULL" else None,
        _group(
            TargetGroup.PUS,
            f"{p}.sex = {FEMALE} AND {p}.marital_status = {MARRIED}"
            f" AND {pus_from} <= {as_of} AND {as_of} < {pus_until}",
            "NULL",
            f"{pus_until} - 1",
        ),
        _group(TargetGroup.IBU_HAMIL, f"{pregnancy_start} IS NOT NULL", pregnancy_start, "NULL")
        if pregnancy_start != "NULL"
        else None,
        _group(
            TargetGroup.BADUTA,
            f"{p}.birth_date <= {as_of} AND {as_of} < {baduta_until}",
            f"{p}.birth_date",
            f"{baduta_until} - 1",
        ),
        _group(
            TargetGroup.BALITA,
            f"{p}.birth_date <= {as_of} AND {as_of} < {balita_until}",
            f"{p}.birth_date",
            f"{balita_until} - 1",
        ),
        _group(
            TargetGroup.REMAJA_PUTRI,
            f"{p}.sex = {FEMALE} AND {girl_from} <= {as_of} AND {as_of} < {girl_until}",
            girl_from,
            f"{girl_until} - 1",
        ),
    ]
    # Groups the caller cannot have are left out of the text, not tested on every row.
    return json_array([g for g in groups if g is not None])
