"""The SQL twin of ``target_groups.target_groups`` for a person with no life events and
no ``marital_status_since``, alive on the day: the groups that follow from birth date,
sex and marital status alone (PUS, baduta, balita, remaja putri), with their windows.

PostgreSQL's ``date + interval 'n months'`` clamps to the end of a shorter month exactly
like ``persons.rules.add_months``. Window lengths are written into the text: a constant
interval is parsed once per statement, a cast parameter once per row.
tests/dukcapil compares both on imported families.
"""

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


def _group(name: TargetGroup, holds: str, start: str, end: str) -> str:
    return (
        f"CASE WHEN {holds} THEN jsonb_build_object('group', '{name.value}', 'start', {start},"
        f" 'end', {end}) END"
    )


def age_groups_sql(p: str, as_of: str) -> str:
    """A jsonb array: the groups of the person row ``p`` (``birth_date``, ``sex``,
    ``marital_status``) on the date expression ``as_of``, in ``target_groups`` order."""
    pus_from, pus_until = _after(p, PUS_AGE[0], "years"), _after(p, PUS_AGE[1] + 1, "years")
    girl_from = _after(p, REMAJA_PUTRI_AGE[0], "years")
    girl_until = _after(p, REMAJA_PUTRI_AGE[1] + 1, "years")
    baduta_until = _after(p, BADUTA_MONTHS, "months")
    balita_until = _after(p, BALITA_MONTHS, "months")
    groups = [
        _group(
            TargetGroup.PUS,
            f"{p}.sex = {FEMALE} AND {p}.marital_status = {MARRIED}"
            f" AND {pus_from} <= {as_of} AND {as_of} < {pus_until}",
            "NULL",
            f"{pus_until} - 1",
        ),
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
    return (
        f"jsonb_path_query_array(jsonb_build_array({', '.join(groups)}), '$[*] ? (@ != null)')"
    )
