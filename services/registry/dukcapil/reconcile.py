"""Reconciling staged extract rows with the registry, one batch per transaction.

A batch is a set of family cards (``dk_household.batch``). Its households go into
``dk_bh`` and its valid person rows into ``dk_b``, each joined with what the registry
holds; set-based UPDATEs then decide an ``action`` per row:

- ``new``: a NIK the registry does not hold (a birth, or someone who arrived);
  ``assign_nik`` marks a row whose NIK goes to an existing person with a provisional id
  (same family card, birth date and sex, one candidate each way);
- ``unchanged``: the row is exactly what the last import saw (row hash);
- ``link``: nothing differs that the registry records;
- ``apply``: fields to overwrite or fill (``overwrite``/``fill``), or ``moved`` to
  another family card; applied when the record was not edited since the last import;
- ``conflict``: the registry record was edited since the last import (its version is
  not the one the import left) or never came from an import, and the extract would
  overwrite something: an open conflict for an operator, nothing overwritten;
- ``death``: the extract gives a death date: an exit flag awaiting a village operator;
- ``dead_unregistered`` / ``dead_in_registry``: reported only.

Households (address, RT/RW, dusun, village) follow the same rules. People of the regency
who came from an earlier extract and are missing from this one get a ``moved_out`` flag
at the end. Every change emits the events the API would (see ``publish``).
"""

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg

from services.registry.dukcapil import publish
from services.registry.dukcapil.publish import HOUSEHOLD_PAYLOAD_SQL, ID_SQL, with_ids
from services.registry.persons.crypto import KK_CONTEXT, NIK_CONTEXT, pii_codec

OTHER_RELATIONSHIP = 11  # SIAK STAT_HBKEL 11 LAINNYA, when the extract gives none
PERSON_FIELDS = (
    "full_name",
    "birth_place",
    "birth_date",
    "sex",
    "religion",
    "marital_status",
    "education",
    "occupation",
    "mother_name",
    "relationship",
)
HOUSEHOLD_FIELDS = ("village_code", "dusun", "rw", "rt", "address")


@dataclass(frozen=True)
class BatchContext:
    import_id: uuid.UUID
    extract_date: date
    # The extract date of the regency's previous completed import: newer births count
    # as births, and start their membership on the birth date.
    previous_extract_date: date | None
    as_of: date
    auto_apply_exits: bool
    actor: str


def _norm_differs(registry: str, extract: str) -> str:
    """The two texts differ once normalised; the plain comparison first spares the
    regular expressions for the usual equal pair (a NULL side gives NULL either way)."""
    return f"({registry} <> {extract} AND {_norm(registry)} <> {_norm(extract)})"


def _norm(expr: str) -> str:
    """``mapping.normalise_text`` in SQL: case, apostrophes and punctuation folded."""
    return (
        f"btrim(regexp_replace(regexp_replace(upper({expr}), '[''’‘`]', '', 'g'),"
        f" '[^[:alnum:]]+', ' ', 'g'))"
    )


# The work tables of one batch (or of one conflict taken from the extract's side).
_WORK_TABLES_SQL = """
    DROP TABLE IF EXISTS dk_new_household, dk_new_person, dk_village_moved;
    CREATE TEMP TABLE dk_new_household (kk text, id uuid, kk_enc text) ON COMMIT DROP;
    CREATE TEMP TABLE dk_new_person (row_no integer, nik_enc text) ON COMMIT DROP;
    CREATE TEMP TABLE dk_village_moved (id uuid, version integer) ON COMMIT DROP;
"""

# dk_bh and dk_b as the batch statements make them, for a conflict's single row.
_CONFLICT_TABLES_SQL = """
    DROP TABLE IF EXISTS dk_bh, dk_b;
    CREATE TEMP TABLE dk_bh (
        kk text PRIMARY KEY, kk_hash text, village_code text, dusun text, rw text, rt text,
        address text, hh_hash uuid, household_id uuid, is_new boolean, h_version integer,
        h_village_code text, h_dusun text, h_rw text, h_rt text, h_address text,
        link_hash uuid, link_version integer, action text,
        overwrite text[] NOT NULL DEFAULT '{}', fill text[] NOT NULL DEFAULT '{}'
    ) ON COMMIT DROP;
    CREATE TEMP TABLE dk_b (
        row_no integer PRIMARY KEY, nik text, nik_hash text, kk text, mother_hash text,
        full_name text, birth_place text, birth_date date, sex smallint, religion smallint,
        marital_status smallint, relationship smallint, education smallint,
        occupation smallint, mother_name text, death_date date, row_hash uuid, kk_hash text,
        target_household_id uuid, person_id uuid, p_version integer, p_death_date date,
        cur_household_id uuid, cur_village_code text, cur_kk_hash text, link_hash uuid,
        link_version integer, mother_id uuid,
        assign_nik boolean NOT NULL DEFAULT false, action text,
        overwrite text[] NOT NULL DEFAULT '{}', fill text[] NOT NULL DEFAULT '{}',
        moved boolean NOT NULL DEFAULT false
    ) ON COMMIT DROP;
"""


def _person_diff(row: str, reg: str, moved: str) -> tuple[str, str]:
    """``(overwrite, fill)``: the fields where extract row ``row`` would overwrite the
    registry person ``reg``, and those it would fill in; the relationship only when the
    person stays (``moved`` false): a move brings the new card's relationship anyway."""

    def differs(f: str) -> str:
        if f in ("full_name", "birth_place", "mother_name"):
            return _norm_differs(f"{reg}.{f}", f"{row}.{f}")
        return f"{reg}.{f} <> {row}.{f}"

    fields = [f for f in PERSON_FIELDS if f != "relationship"]
    overwrite = [f"CASE WHEN {differs(f)} THEN '{f}' END" for f in fields]
    overwrite.append(
        f"CASE WHEN NOT ({moved}) AND {differs('relationship')} THEN 'relationship' END"
    )
    fill = [
        f"CASE WHEN {reg}.{f} IS NULL AND {row}.{f} IS NOT NULL THEN '{f}' END"
        for f in (
            "birth_place",
            "religion",
            "marital_status",
            "education",
            "occupation",
            "mother_name",
        )
    ]
    fill.append(
        f"CASE WHEN NOT ({moved}) AND {reg}.relationship IS NULL AND {row}.relationship"
        " IS NOT NULL THEN 'relationship' END"
    )
    return (
        f"array_remove(ARRAY[{', '.join(overwrite)}], NULL)",
        f"array_remove(ARRAY[{', '.join(fill)}], NULL)",
    )


def _household_diff(row: str, reg: str) -> tuple[str, str]:
    """``(overwrite, fill)`` of a family card's address: ``row`` and ``reg`` map a
    field name to the extract's and the registry's column."""
    overwrite = [
        f"CASE WHEN {row.format('village_code')} <> {reg.format('village_code')}"
        " THEN 'village_code' END",
        *(
            f"CASE WHEN {_norm_differs(reg.format(f), row.format(f))} THEN '{f}' END"
            for f in ("dusun",)
        ),
        *(
            f"CASE WHEN ltrim({reg.format(f)}, '0') <> ltrim({row.format(f)}, '0') THEN '{f}' END"
            for f in ("rw", "rt")
        ),
        f"CASE WHEN {_norm_differs(reg.format('address'), row.format('address'))}"
        " THEN 'address' END",
    ]
    fill = [
        f"CASE WHEN {reg.format(f)} IS NULL AND {row.format(f)} IS NOT NULL THEN '{f}' END"
        for f in ("dusun", "rw", "rt", "address")
    ]
    return (
        f"array_remove(ARRAY[{', '.join(overwrite)}], NULL)",
        f"array_remove(ARRAY[{', '.join(fill)}], NULL)",
    )


# What to do with a record the extract would change: 'link' when nothing differs,
# 'conflict' when it was edited since the last import (or never came from one) and the
# extract would overwrite something, else 'apply'. The same disagreement already waiting
# for an operator ($open) is nothing new: 'unchanged'.
def _decide(overwrite: str, fill: str, moved: str, linked: str, open_conflict: str) -> str:
    return f"""CASE WHEN {overwrite} = '{{}}' AND {fill} = '{{}}' AND NOT {moved} THEN 'link'
        WHEN ({overwrite} <> '{{}}' OR {moved}) AND NOT ({linked})
            THEN CASE WHEN {open_conflict} THEN 'unchanged' ELSE 'conflict' END
        ELSE 'apply' END"""


_HH_OVERWRITE, _HH_FILL = _household_diff("d.{}", "h.{}")

# $1 batch. One row per family card of the batch, decided: 'new' (gets its id now; see
# _SKIP_SQL), 'unchanged' (the address the last import saw), or as _decide says.
_HOUSEHOLDS_SQL = f"""
    CREATE TEMP TABLE dk_bh ON COMMIT DROP AS
    SELECT x.kk, x.kk_hash, x.village_code, x.dusun, x.rw, x.rt, x.address, x.hh_hash,
           x.household_id, x.is_new, x.h_version, x.h_village_code, x.h_dusun, x.h_rw,
           x.h_rt, x.h_address, x.link_hash, x.link_version,
           coalesce(x.settled, {
    _decide(
        "x.ow",
        "x.fl",
        "false",
        "x.link_hash IS NOT NULL AND x.h_version = x.link_version",
        "EXISTS (SELECT 1 FROM dukcapil_conflict c WHERE c.record_type = 'household'"
        " AND c.status = 'open' AND c.household_id = x.household_id"
        " AND c.row_hash = x.hh_hash)",
    )
}) AS action,
           CASE WHEN x.settled IS NULL THEN x.ow ELSE '{{}}' END AS overwrite,
           CASE WHEN x.settled IS NULL THEN x.fl ELSE '{{}}' END AS fill
    FROM (
        SELECT d.kk, d.kk_hash, d.village_code, d.dusun, d.rw, d.rt, d.address, d.hh_hash,
               coalesce(h.id, {ID_SQL}) AS household_id, h.id IS NULL AS is_new,
               h.version AS h_version, h.village_code AS h_village_code, h.dusun AS h_dusun,
               h.rw AS h_rw, h.rt AS h_rt, h.address AS h_address,
               l.row_hash AS link_hash, l.household_version AS link_version,
               CASE WHEN h.id IS NULL THEN 'new'
                    WHEN l.row_hash = d.hh_hash THEN 'unchanged' END AS settled,
               {_HH_OVERWRITE} AS ow, {_HH_FILL} AS fl
        FROM dk_household d
        LEFT JOIN household h ON h.kk_hash = d.kk_hash AND h.active
        LEFT JOIN dukcapil_household_link l ON l.household_id = h.id
        WHERE d.batch = $1
        ORDER BY d.kk
    ) x
"""

_MOVED = "(p.household_id IS NULL OR p.kk_hash IS DISTINCT FROM m.kk_hash)"
_P_OVERWRITE, _P_FILL = _person_diff("m", "p", _MOVED)
# What needs no comparison: a new person, a row the last import saw, deaths.
_P_SETTLED = """CASE WHEN m.pid IS NULL AND m.death_date IS NOT NULL THEN 'dead_unregistered'
                    WHEN m.pid IS NULL THEN 'new'
                    WHEN m.link_hash = m.row_hash THEN 'unchanged'
                    WHEN p.death_date IS NOT NULL AND m.death_date IS NULL
                         THEN 'dead_in_registry'
                    WHEN p.death_date IS NOT NULL THEN 'link'
                    WHEN m.death_date IS NOT NULL THEN 'death' END"""

# $1 batch. One row per valid person row of the batch, matched and decided (see the
# module's docstring); new people get their ids here.
_PERSONS_SQL = f"""
    CREATE TEMP TABLE dk_b ON COMMIT DROP AS
    WITH matched AS (
        SELECT r.row_no, r.nik, r.nik_hash, r.kk, r.mother_hash, r.full_name, r.birth_place,
               r.birth_date, r.sex, r.religion, r.marital_status, r.relationship,
               r.education, r.occupation, r.mother_name, r.death_date, r.row_hash,
               bh.kk_hash, bh.household_id AS target_household_id, bh.is_new,
               np.id AS nik_person_id, np.link_hash, np.link_version
        FROM dk_row r
        JOIN dk_bh bh ON bh.kk = r.kk
        -- LATERAL ... LIMIT 1 (at most one row anyway): a batch is a small part of the
        -- registry, and an index probe per row beats the scan and hash of a million
        -- people the planner would otherwise choose, for each of the three lookups.
        LEFT JOIN LATERAL (
            SELECT x.id, l.row_hash AS link_hash, l.person_version AS link_version
            FROM person x LEFT JOIN dukcapil_person_link l ON l.person_id = x.id
            WHERE x.nik_hash = r.nik_hash AND x.merged_into IS NULL
            LIMIT 1
        ) np ON true
        WHERE r.batch = $1 AND r.ok
    ),
    cand AS (
        -- A NIK for a person registered with a provisional id: one candidate each way.
        SELECT r.row_no, p.id
        FROM matched r
        JOIN person p ON p.household_id = r.target_household_id
        WHERE r.nik_person_id IS NULL AND NOT r.is_new AND r.death_date IS NULL
          AND p.nik_hash IS NULL AND p.merged_into IS NULL AND p.death_date IS NULL
          AND p.birth_date = r.birth_date AND p.sex = r.sex
    ),
    claimed AS (SELECT id FROM cand GROUP BY id HAVING count(*) = 1),
    one AS (SELECT row_no, (array_agg(id))[1] AS id FROM cand GROUP BY row_no
            HAVING count(*) = 1),
    assign AS (SELECT o.row_no, o.id FROM one o JOIN claimed c ON c.id = o.id),
    m AS (
        SELECT r.*, coalesce(r.nik_person_id, a.id) AS pid, a.id IS NOT NULL AS assign_nik
        FROM matched r LEFT JOIN assign a ON a.row_no = r.row_no
    ),
    d AS (
        SELECT m.*, p.version AS p_version, p.death_date AS p_death_date,
               p.household_id AS cur_household_id, p.village_code AS cur_village_code,
               p.kk_hash AS cur_kk_hash, mo.id AS known_mother_id,
               {_P_SETTLED} AS settled, {_MOVED} AS mv,
               -- Only rows still undecided are compared (the regular expressions cost).
               CASE WHEN {_P_SETTLED} IS NULL THEN {_P_OVERWRITE} END AS ow,
               CASE WHEN {_P_SETTLED} IS NULL THEN {_P_FILL} END AS fl
        FROM m
        LEFT JOIN LATERAL (
            SELECT x.*, h.kk_hash FROM person x LEFT JOIN household h ON h.id = x.household_id
            WHERE x.id = m.pid LIMIT 1
        ) p ON true
        -- Mothers already registered; mothers arriving in this batch are found on insert.
        LEFT JOIN LATERAL (
            SELECT x.id FROM person x
            WHERE x.nik_hash = m.mother_hash AND x.merged_into IS NULL AND x.sex = 2
              AND x.birth_date < m.birth_date
            LIMIT 1
        ) mo ON true
    ),
    f AS (
        SELECT d.*, coalesce(d.settled, {
    _decide(
        "d.ow",
        "d.fl",
        "d.mv",
        "d.link_hash IS NOT NULL AND d.p_version = d.link_version",
        "EXISTS (SELECT 1 FROM dukcapil_conflict c WHERE c.record_type = 'person'"
        " AND c.status = 'open' AND c.person_id = d.pid AND c.row_hash = d.row_hash)",
    )
}) AS action
        FROM d
    )
    SELECT row_no, nik, nik_hash, kk, mother_hash, full_name, birth_place, birth_date, sex,
           religion, marital_status, relationship, education, occupation, mother_name,
           death_date, row_hash, kk_hash, target_household_id,
           CASE WHEN action = 'new' THEN {ID_SQL} ELSE pid END AS person_id,
           p_version, p_death_date, cur_household_id, cur_village_code, cur_kk_hash,
           link_hash, link_version,
           CASE WHEN action = 'new' THEN known_mother_id END AS mother_id, assign_nik, action,
           CASE WHEN settled IS NULL THEN ow ELSE '{{}}' END AS overwrite,
           CASE WHEN settled IS NULL THEN fl ELSE '{{}}' END AS fill,
           settled IS NULL AND mv AS moved
    FROM f
    ORDER BY row_no
"""

# A new family card is registered only when someone joins it.
_SKIP_SQL = """
    WITH skipped AS (
        UPDATE dk_bh bh SET action = 'skipped', household_id = NULL
        FROM (
            SELECT kk FROM dk_bh WHERE action = 'new'
            EXCEPT
            SELECT kk FROM dk_b WHERE action = 'new' OR (action = 'apply' AND moved)
        ) s
        WHERE bh.kk = s.kk
        RETURNING bh.kk
    )
    UPDATE dk_b b SET target_household_id = NULL FROM skipped s WHERE s.kk = b.kk;
    ANALYZE dk_b (row_no, action, person_id, kk, target_household_id);
"""

# The conflict path's dk_b/dk_bh rows, compared as the batch statements compare them.
_PERSON_DIFF_SQL = f"""
    UPDATE dk_b m SET overwrite = {_P_OVERWRITE}, fill = {_P_FILL}, moved = {_MOVED}
    FROM (SELECT x.*, h.kk_hash FROM person x LEFT JOIN household h ON h.id = x.household_id) p
    WHERE p.id = m.person_id AND m.action IS NULL
"""

_HOUSEHOLD_DIFF_SQL = "UPDATE dk_bh SET overwrite = {}, fill = {} WHERE action IS NULL".format(
    *_household_diff("{}", "h_{}")
)


async def seal_new(conn: asyncpg.Connection) -> None:
    """Ciphertexts of the new households' KK numbers and of the NIKs to write."""
    codec = pii_codec()
    households = await conn.fetch("SELECT kk, household_id FROM dk_bh WHERE action = 'new'")
    people = await conn.fetch(
        "SELECT row_no, nik FROM dk_b WHERE action = 'new' OR assign_nik ORDER BY row_no"
    )
    if households:
        sealed = codec.encrypt_many([r["kk"] for r in households], KK_CONTEXT)
        await conn.copy_records_to_table(
            "dk_new_household",
            records=[
                (r["kk"], r["household_id"], enc) for r, enc in zip(households, sealed, strict=True)
            ],
        )
    if people:
        sealed = codec.encrypt_many([r["nik"] for r in people], NIK_CONTEXT)
        await conn.copy_records_to_table(
            "dk_new_person",
            records=[(r["row_no"], enc) for r, enc in zip(people, sealed, strict=True)],
        )


def _set_changed(fields: tuple[str, ...], source: str, changes: str) -> str:
    return ",\n".join(
        f"{f} = CASE WHEN '{f}' = ANY({changes}) THEN {source}.{f} ELSE p.{f} END" for f in fields
    )


_INSERT_SQL = [
    """
    INSERT INTO household (id, kk_number_enc, kk_hash, village_code, dusun, rw, rt, address)
    SELECT n.id, n.kk_enc, bh.kk_hash, bh.village_code, bh.dusun, bh.rw, bh.rt, bh.address
    FROM dk_new_household n JOIN dk_bh bh ON bh.kk = n.kk
    """,
    f"""
    INSERT INTO person (id, nik_enc, nik_hash, full_name, sex, birth_date, birth_place,
        religion, education, occupation, marital_status, mother_id, mother_name,
        household_id, relationship, village_code)
    SELECT b.person_id, n.nik_enc, b.nik_hash, b.full_name, b.sex, b.birth_date,
           b.birth_place, b.religion, b.education, b.occupation, b.marital_status,
           coalesce(b.mother_id, nm.person_id), b.mother_name, b.target_household_id,
           coalesce(b.relationship, {OTHER_RELATIONSHIP}), h.village_code
    FROM dk_b b
    JOIN dk_new_person n ON n.row_no = b.row_no
    JOIN household h ON h.id = b.target_household_id
    -- A mother arriving in the same batch (one at most: a NIK the file repeats is rejected).
    LEFT JOIN dk_b nm ON nm.nik_hash = b.mother_hash AND nm.action = 'new' AND nm.sex = 2
         AND nm.birth_date < b.birth_date
    WHERE b.action = 'new'
    ORDER BY b.row_no
    """,
    # $1 extract date, $2 previous extract date.
    f"""
    INSERT INTO household_membership (id, person_id, household_id, relationship, start_date)
    SELECT {ID_SQL}, person_id, target_household_id,
           coalesce(relationship, {OTHER_RELATIONSHIP}),
           CASE WHEN CAST($2 AS date) IS NOT NULL AND birth_date > $2 THEN birth_date
                ELSE greatest(CAST($1 AS date), birth_date) END
    FROM dk_b WHERE action = 'new' ORDER BY row_no
    """,
    """
    INSERT INTO person_identifier_history (person_id, kind, value, reason)
    SELECT p.id, 'provisional', p.provisional_id, 'nik_assigned'
    FROM dk_b b JOIN person p ON p.id = b.person_id
    WHERE b.assign_nik AND p.provisional_id IS NOT NULL
    """,
]

_UPDATE_PERSONS_SQL = f"""
    UPDATE person p SET
        nik_enc = CASE WHEN b.assign_nik THEN n.nik_enc ELSE p.nik_enc END,
        nik_hash = CASE WHEN b.assign_nik THEN b.nik_hash ELSE p.nik_hash END,
        {_set_changed(PERSON_FIELDS[:-1], "b", "b.changes")},
        relationship = CASE WHEN b.moving THEN coalesce(b.relationship, p.relationship)
                            WHEN 'relationship' = ANY(b.changes) THEN b.relationship
                            ELSE p.relationship END,
        household_id = CASE WHEN b.moving THEN b.target_household_id ELSE p.household_id END,
        village_code = CASE WHEN b.moving THEN h.village_code ELSE p.village_code END,
        version = p.version + 1, updated_at = now()
    FROM (
        SELECT *,
               CASE WHEN action = 'apply' THEN overwrite || fill ELSE '{{}}'::text[] END
                   AS changes,
               action = 'apply' AND moved AS moving
        FROM dk_b WHERE assign_nik OR action = 'apply'
    ) b
    LEFT JOIN dk_new_person n ON n.row_no = b.row_no
    LEFT JOIN household h ON h.id = b.target_household_id
    WHERE p.id = b.person_id
"""

_MEMBERSHIP_SQL = [
    """
    UPDATE household_membership m SET end_date = greatest(m.start_date, $1),
        end_reason = 'moved'
    FROM dk_b b
    WHERE b.action = 'apply' AND b.moved AND m.person_id = b.person_id
      AND m.end_reason IS NULL
    """,
    f"""
    INSERT INTO household_membership (id, person_id, household_id, relationship, start_date)
    SELECT {ID_SQL}, b.person_id, b.target_household_id,
           coalesce(b.relationship, p.relationship, {OTHER_RELATIONSHIP}),
           greatest(CAST($1 AS date), p.birth_date)
    FROM dk_b b JOIN person p ON p.id = b.person_id
    WHERE b.action = 'apply' AND b.moved
    ORDER BY b.row_no
    """,
    """
    UPDATE household_membership m SET relationship = b.relationship
    FROM dk_b b
    WHERE b.action = 'apply' AND NOT b.moved AND 'relationship' = ANY(b.overwrite || b.fill)
      AND m.person_id = b.person_id AND m.end_reason IS NULL
    """,
]

_UPDATE_HOUSEHOLDS_SQL = [
    f"""
    UPDATE household p SET
        {_set_changed(HOUSEHOLD_FIELDS, "bh", "bh.changes")},
        version = p.version + 1, updated_at = now()
    FROM (SELECT *, overwrite || fill AS changes FROM dk_bh WHERE action = 'apply') bh
    WHERE p.id = bh.household_id
    """,
    # Members live where their household lives.
    """
    WITH moved AS (
        UPDATE person p SET village_code = h.village_code, version = p.version + 1,
            updated_at = now()
        FROM dk_bh bh JOIN household h ON h.id = bh.household_id
        WHERE bh.action = 'apply' AND 'village_code' = ANY(bh.overwrite || bh.fill)
          AND p.household_id = h.id AND p.merged_into IS NULL
          AND p.village_code <> h.village_code
        RETURNING p.id, p.version
    )
    INSERT INTO dk_village_moved (id, version) SELECT id, version FROM moved
    """,
]

_PERSON_JSON = """jsonb_build_object(
    'full_name', {t}.full_name, 'birth_place', {t}.birth_place,
    'birth_date', {t}.birth_date, 'sex', {t}.sex, 'religion', {t}.religion,
    'marital_status', {t}.marital_status, 'education', {t}.education,
    'occupation', {t}.occupation, 'mother_name', {t}.mother_name,
    'relationship', {t}.relationship)"""

# $1 import id.
_CONFLICT_SQL = [
    """
    UPDATE dukcapil_conflict c SET status = 'superseded', resolved_at = now()
    FROM dk_b b
    WHERE b.action = 'conflict' AND c.record_type = 'person' AND c.status = 'open'
      AND c.person_id = b.person_id
    """,
    f"""
    INSERT INTO dukcapil_conflict (id, import_id, record_type, person_id, household_id,
        village_code, fields, proposed, row_hash)
    SELECT {ID_SQL}, $1, 'person', x.person_id, x.household_id, x.village_code,
           (SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'field', f, 'registry', x.reg -> f, 'dukcapil', x.duk -> f)), '[]')
            FROM unnest(x.fields) AS f),
           x.duk, x.row_hash
    FROM (
        SELECT b.person_id, p.household_id, p.village_code, b.row_hash,
               b.overwrite || CASE WHEN b.moved THEN ARRAY['household'] ELSE '{{}}' END
                   AS fields,
               {_PERSON_JSON.format(t="p")} || jsonb_build_object('household',
                   jsonb_build_object('household_id', p.household_id,
                                      'village_code', p.village_code)) AS reg,
               {_PERSON_JSON.format(t="b")} || jsonb_build_object('household',
                   jsonb_build_object('household_id', b.target_household_id,
                                      'village_code', bh.village_code,
                                      'kk_hash', b.kk_hash)) AS duk
        FROM dk_b b JOIN person p ON p.id = b.person_id JOIN dk_bh bh ON bh.kk = b.kk
        WHERE b.action = 'conflict'
        ORDER BY b.row_no
    ) x
    """,
    """
    UPDATE dukcapil_conflict c SET status = 'superseded', resolved_at = now()
    FROM dk_bh bh
    WHERE bh.action = 'conflict' AND c.record_type = 'household' AND c.status = 'open'
      AND c.household_id = bh.household_id
    """,
    f"""
    INSERT INTO dukcapil_conflict (id, import_id, record_type, household_id, village_code,
        fields, proposed, row_hash)
    SELECT {ID_SQL}, $1, 'household', x.household_id, x.h_village_code,
           (SELECT coalesce(jsonb_agg(jsonb_build_object(
                       'field', f, 'registry', x.reg -> f, 'dukcapil', x.duk -> f)), '[]')
            FROM unnest(x.overwrite) AS f),
           x.duk, x.hh_hash
    FROM (
        SELECT bh.*, jsonb_build_object('village_code', bh.h_village_code,
                   'dusun', bh.h_dusun, 'rw', bh.h_rw, 'rt', bh.h_rt,
                   'address', bh.h_address) AS reg,
               jsonb_build_object('village_code', bh.village_code, 'dusun', bh.dusun,
                   'rw', bh.rw, 'rt', bh.rt, 'address', bh.address) AS duk
        FROM dk_bh bh WHERE bh.action = 'conflict'
    ) x
    """,
    f"""
    INSERT INTO dukcapil_exit_flag (id, import_id, person_id, household_id, village_code,
        kind, death_date)
    SELECT {ID_SQL}, $1, b.person_id, p.household_id, p.village_code, 'died', b.death_date
    FROM dk_b b JOIN person p ON p.id = b.person_id
    WHERE b.action = 'death'
    ORDER BY b.row_no
    ON CONFLICT (person_id) WHERE status = 'pending' DO NOTHING
    """,
]

# $1 import id.
_LINK_SQL = [
    """
    INSERT INTO dukcapil_person_link (person_id, row_hash, person_version, import_id)
    SELECT b.person_id, b.row_hash, p.version, $1
    FROM dk_b b JOIN person p ON p.id = b.person_id
    WHERE b.action IN ('new', 'link', 'apply', 'death')
    ON CONFLICT (person_id) DO UPDATE SET row_hash = EXCLUDED.row_hash,
        person_version = EXCLUDED.person_version, import_id = EXCLUDED.import_id,
        linked_at = now()
    """,
    """
    UPDATE dukcapil_person_link l SET person_version = v.version
    FROM dk_village_moved v WHERE l.person_id = v.id
    """,
    """
    INSERT INTO dukcapil_household_link (household_id, row_hash, household_version,
        import_id)
    SELECT bh.household_id, bh.hh_hash, h.version, $1
    FROM dk_bh bh JOIN household h ON h.id = bh.household_id
    WHERE bh.action IN ('new', 'link', 'apply')
    ON CONFLICT (household_id) DO UPDATE SET row_hash = EXCLUDED.row_hash,
        household_version = EXCLUDED.household_version, import_id = EXCLUDED.import_id,
        linked_at = now()
    """,
    # What the extract says is what Dukcapil says. A linked record counts as checked
    # without a row here (see verification); rows that exist are brought up to date.
    """
    UPDATE person_verification v SET status = 'verified', differences = '{}',
        code = 'dukcapil_extract', source = 'extract', attempted_at = now(),
        checked_at = now(), attempts = 0
    FROM dk_b b
    WHERE v.person_id = b.person_id AND (b.action IN ('link', 'apply') OR b.assign_nik)
    """,
    """
    INSERT INTO person_verification (person_id, status, differences, code, source,
        requested_at, attempted_at, checked_at, next_attempt_at)
    SELECT person_id, 'differs', overwrite, 'dukcapil_extract', 'extract', now(), now(),
           now(), now()
    FROM dk_b WHERE action = 'conflict'
    ON CONFLICT (person_id) DO UPDATE SET status = EXCLUDED.status,
        differences = EXCLUDED.differences, code = EXCLUDED.code, source = 'extract',
        attempted_at = now(), checked_at = now(), attempts = 0
    """,
]

_HOUSEHOLD_EVENTS_SQL = [
    f"""
    INSERT INTO outbox_event (event_id, type, aggregate_type, aggregate_id, region_code,
                              payload)
    SELECT {ID_SQL}, 'household.registered', 'household', h.id, h.village_code,
           json_build_object('household_id', h.id, 'village_code', h.village_code,
                             'active', h.active, 'conditions', NULL)
    FROM dk_new_household n JOIN household h ON h.id = n.id
    ORDER BY h.id
    """,
    f"""
    INSERT INTO outbox_event (event_id, type, aggregate_type, aggregate_id, region_code,
                              payload)
    SELECT {ID_SQL}, 'household.updated', 'household', h.id, h.village_code,
           {HOUSEHOLD_PAYLOAD_SQL}
    FROM dk_bh bh JOIN household h ON h.id = bh.household_id
    WHERE bh.action = 'apply'
    """,
]

_EVENT_PERSONS_SQL = [
    """
    INSERT INTO dk_event_person (person_id, type)
    SELECT person_id, 'person.registered' FROM dk_b WHERE action = 'new' ORDER BY row_no
    """,
    """
    INSERT INTO dk_event_person (person_id, type)
    SELECT person_id, 'person.updated' FROM dk_b
    WHERE (action = 'apply' OR assign_nik) AND NOT (action = 'apply' AND moved)
    ORDER BY row_no
    """,
    """
    INSERT INTO dk_event_person (person_id, type)
    SELECT id, 'person.updated' FROM dk_village_moved
    WHERE id NOT IN (SELECT person_id FROM dk_event_person)
    """,
    """
    INSERT INTO dk_event_person (person_id, type, from_household_id, from_village_code)
    SELECT person_id, 'person.moved', cur_household_id, cur_village_code
    FROM dk_b WHERE action = 'apply' AND moved ORDER BY row_no
    """,
    """
    INSERT INTO dk_affected (household_id)
    SELECT cur_household_id FROM dk_b
    WHERE action = 'apply' AND moved AND cur_household_id IS NOT NULL
    UNION SELECT household_id FROM dk_bh WHERE action = 'apply'
    ON CONFLICT DO NOTHING
    """,
]

# $1 import id, $2 previous extract date.
_CHANGES_SQL = """
    INSERT INTO dukcapil_change (import_id, kind, person_id, household_id, village_code,
                                 row_no, fields)
    SELECT $1, x.kind, x.person_id, x.household_id, x.village_code, x.row_no, x.fields
    FROM (
        SELECT CASE b.action
                   WHEN 'new' THEN CASE WHEN CAST($2 AS date) IS NOT NULL
                                             AND b.birth_date > $2
                                        THEN 'person_born' ELSE 'person_added' END
                   WHEN 'apply' THEN CASE WHEN b.moved THEN 'person_moved'
                                          ELSE 'person_updated' END
                   WHEN 'conflict' THEN 'person_conflict'
                   WHEN 'death' THEN 'death_reported'
                   ELSE b.action END AS kind,
               b.person_id, coalesce(p.household_id, b.target_household_id) AS household_id,
               coalesce(p.village_code, bh.village_code) AS village_code, b.row_no,
               CASE WHEN b.action IN ('apply', 'conflict')
                    THEN b.overwrite || b.fill ELSE '{}' END AS fields
        FROM dk_b b JOIN dk_bh bh ON bh.kk = b.kk LEFT JOIN person p ON p.id = b.person_id
        WHERE b.action NOT IN ('unchanged', 'link')
        UNION ALL
        SELECT 'person_nik_assigned', b.person_id, b.target_household_id, bh.village_code,
               b.row_no, '{}'
        FROM dk_b b JOIN dk_bh bh ON bh.kk = b.kk WHERE b.assign_nik
        UNION ALL
        SELECT CASE bh.action WHEN 'new' THEN 'household_added'
                              WHEN 'apply' THEN 'household_updated'
                              ELSE 'household_conflict' END,
               NULL, bh.household_id, coalesce(bh.h_village_code, bh.village_code), NULL,
               bh.overwrite || bh.fill
        FROM dk_bh bh
        WHERE bh.action IN ('apply', 'conflict')
           OR (bh.action = 'new' AND bh.household_id IS NOT NULL)
    ) x
"""

_COUNTS_SQL = """
    SELECT count(*) FILTER (WHERE action = 'new') AS persons_added,
           count(*) FILTER (WHERE action = 'new' AND CAST($1 AS date) IS NOT NULL
                            AND birth_date > $1) AS births,
           count(*) FILTER (WHERE assign_nik) AS nik_assigned,
           count(*) FILTER (WHERE action = 'apply' AND NOT moved) AS persons_updated,
           count(*) FILTER (WHERE action = 'apply' AND moved) AS persons_moved,
           count(*) FILTER (WHERE action = 'conflict') AS person_conflicts,
           count(*) FILTER (WHERE action = 'death') AS deaths_reported,
           count(*) FILTER (WHERE action IN ('unchanged', 'link')) AS persons_unchanged,
           count(*) FILTER (WHERE action = 'dead_unregistered') AS dead_unregistered,
           count(*) FILTER (WHERE action = 'dead_in_registry') AS dead_in_registry,
           (SELECT count(*) FROM dk_new_household) AS households_added,
           (SELECT count(*) FROM dk_bh WHERE action = 'apply') AS households_updated,
           (SELECT count(*) FROM dk_bh WHERE action = 'conflict') AS household_conflicts
    FROM dk_b
"""


async def _run(conn: asyncpg.Connection, statements: list[str], prefix: str, *args: Any) -> None:
    """Each statement with the id prefix and as many of ``args`` as it has $n."""
    for statement in statements:
        used = sum(f"${i}" in statement for i in range(1, len(args) + 1))
        await conn.execute(with_ids(statement, prefix), *args[:used])


async def apply_rows(conn: asyncpg.Connection, ctx: BatchContext, prefix: str) -> None:
    """Write what ``dk_b``/``dk_bh`` decided; fill the event tables (``publish.begin``)."""
    await _run(conn, _INSERT_SQL, prefix, ctx.extract_date, ctx.previous_extract_date)
    await _run(conn, [_UPDATE_PERSONS_SQL], prefix)
    await _run(conn, _MEMBERSHIP_SQL, prefix, ctx.extract_date)
    await _run(conn, _UPDATE_HOUSEHOLDS_SQL, prefix)
    await _run(conn, _CONFLICT_SQL, prefix, ctx.import_id)
    await _run(conn, _LINK_SQL, prefix, ctx.import_id)
    await _run(conn, _HOUSEHOLD_EVENTS_SQL, prefix)
    await _run(conn, _EVENT_PERSONS_SQL, prefix)


async def reconcile_batch(
    conn: asyncpg.Connection, ctx: BatchContext, batch: int
) -> dict[str, int]:
    """One batch, inside the caller's transaction; its counts by kind."""
    prefix = publish.id_prefix()
    await publish.begin(conn)
    await conn.execute(_WORK_TABLES_SQL + "DROP TABLE IF EXISTS dk_bh, dk_b;")
    await conn.execute(with_ids(_HOUSEHOLDS_SQL, prefix), batch)
    await conn.execute("CREATE UNIQUE INDEX ON dk_bh (kk); ANALYZE dk_bh")
    await conn.execute(with_ids(_PERSONS_SQL, prefix), batch)
    await conn.execute("CREATE UNIQUE INDEX ON dk_b (row_no); CREATE INDEX ON dk_b (person_id)")
    await conn.execute(_SKIP_SQL)
    await seal_new(conn)
    await conn.execute("ANALYZE dk_new_household; ANALYZE dk_new_person")
    await apply_rows(conn, ctx, prefix)
    if ctx.auto_apply_exits:
        flags = await conn.fetch(
            """
            SELECT f.id FROM dukcapil_exit_flag f JOIN dk_b b ON b.person_id = f.person_id
            WHERE b.action = 'death' AND f.status = 'pending' AND f.kind = 'died'
            """
        )
        await apply_exits(
            conn, [f["id"] for f in flags], "auto_applied", ctx.actor, ctx.extract_date
        )
    await publish.publish(conn, ctx.as_of, prefix)
    await conn.execute(_CHANGES_SQL, ctx.import_id, ctx.previous_extract_date)
    counts = await conn.fetchrow(_COUNTS_SQL, ctx.previous_extract_date)
    return {k: int(v) for k, v in counts.items()}


# Nobody can have left when no earlier extract was linked (a first import).
_EARLIER_LINKS_SQL = (
    "SELECT EXISTS (SELECT 1 FROM dukcapil_person_link WHERE import_id IS DISTINCT FROM $1)"
)
# Hash: equality only, and no collation-aware comparisons to build it.
_LEAVER_INDEX_SQL = "CREATE INDEX IF NOT EXISTS dk_row_nik_hash ON dk_row USING hash (nik_hash)"

# $1 import id, $2 regency code. Everyone in the file is present: whoever this import
# linked, the rows seen unchanged (dk_matched) and every row checked (dk_row), rejected
# rows included: a bad row is no sign that the person left. The links left are few;
# only their people are looked up.
_MOVED_OUT_SQL = f"""
    WITH unmatched AS (
        SELECT l.person_id, l.linked_at FROM dukcapil_person_link l
        WHERE l.import_id IS DISTINCT FROM $1
          AND NOT EXISTS (SELECT 1 FROM dk_matched m WHERE m.person_id = l.person_id)
    ),
    gone AS (
        SELECT p.id, p.household_id, p.village_code, u.linked_at
        FROM unmatched u
        CROSS JOIN LATERAL (SELECT * FROM person x WHERE x.id = u.person_id LIMIT 1) p
        WHERE p.merged_into IS NULL AND p.death_date IS NULL
          AND p.household_id IS NOT NULL AND p.nik_hash IS NOT NULL
          AND starts_with(p.village_code, $2 || '.')
          AND NOT EXISTS (SELECT 1 FROM dk_row r WHERE r.nik_hash = p.nik_hash)
    ),
    flagged AS (
        INSERT INTO dukcapil_exit_flag (id, import_id, person_id, household_id, village_code,
                                        kind)
        SELECT {ID_SQL}, $1, g.id, g.household_id, g.village_code, 'moved_out'
        FROM gone g
        -- An operator said this person still lives here since the extract last did.
        WHERE NOT EXISTS (
            SELECT 1 FROM dukcapil_exit_flag r
            WHERE r.person_id = g.id AND r.kind = 'moved_out' AND r.status = 'rejected'
              AND r.created_at >= g.linked_at)
        ORDER BY g.id
        ON CONFLICT (person_id) WHERE status = 'pending' DO NOTHING
        RETURNING id, person_id, household_id, village_code
    ),
    logged AS (
        INSERT INTO dukcapil_change (import_id, kind, person_id, household_id, village_code)
        SELECT $1, 'moved_out_reported', person_id, household_id, village_code FROM flagged
    )
    SELECT id FROM flagged
"""


async def flag_moved_out(conn: asyncpg.Connection, ctx: BatchContext, regency_code: str) -> int:
    """Exit flags for people an earlier extract listed and this one does not."""
    prefix = publish.id_prefix()
    await publish.begin(conn)
    if await conn.fetchval(_EARLIER_LINKS_SQL, ctx.import_id):
        # Leavers are looked up by NIK hash among the staged rows. For a few thousand of
        # them the planner may take a nested loop, and without an index that rescans the
        # rows once per leaver (281 s instead of 1.6 s, seen on the 5% changed bench).
        # Made here, not with the other staging indexes: there it turned the batches'
        # hash joins on dk_row into probes (2.8 s -> 4.6 s for deciding a batch).
        await conn.execute(_LEAVER_INDEX_SQL)
    flagged = await conn.fetch(with_ids(_MOVED_OUT_SQL, prefix), ctx.import_id, regency_code)
    if ctx.auto_apply_exits and flagged:
        await apply_exits(
            conn, [f["id"] for f in flagged], "auto_applied", ctx.actor, ctx.extract_date
        )
        await publish.publish(conn, ctx.as_of, prefix)
    return len(flagged)


_EXIT_SQL = [
    """
    CREATE TEMP TABLE dk_exit ON COMMIT DROP AS
    SELECT f.id, f.kind, f.person_id, f.death_date, p.household_id, p.village_code
    FROM dukcapil_exit_flag f JOIN person p ON p.id = f.person_id
    WHERE f.id = ANY($1::uuid[]) AND f.status = 'pending' AND p.death_date IS NULL
      AND p.merged_into IS NULL
    """,
    """
    UPDATE person p SET death_date = e.death_date, version = p.version + 1, updated_at = now()
    FROM dk_exit e WHERE e.kind = 'died' AND p.id = e.person_id
    """,
    """
    UPDATE household_membership m SET end_date = e.death_date, end_reason = 'died'
    FROM dk_exit e
    WHERE e.kind = 'died' AND m.person_id = e.person_id AND m.end_reason IS NULL
    """,
    """
    UPDATE household_membership m SET end_date = greatest(m.start_date, $1),
        end_reason = 'moved'
    FROM dk_exit e
    WHERE e.kind = 'moved_out' AND m.person_id = e.person_id AND m.end_reason IS NULL
    """,
    """
    UPDATE person p SET household_id = NULL, version = p.version + 1, updated_at = now()
    FROM dk_exit e WHERE e.kind = 'moved_out' AND p.id = e.person_id
    """,
    """
    UPDATE dukcapil_exit_flag f SET status = $1, resolved_at = now(), resolved_by = $2
    FROM dk_exit e WHERE f.id = e.id
    """,
    """
    UPDATE dukcapil_person_link l SET person_version = p.version
    FROM dk_exit e JOIN person p ON p.id = e.person_id WHERE l.person_id = e.person_id
    """,
    """
    INSERT INTO dk_event_person (person_id, type, from_household_id, from_village_code)
    SELECT person_id, CASE kind WHEN 'died' THEN 'person.died' ELSE 'person.moved' END,
           CASE WHEN kind = 'moved_out' THEN household_id END,
           CASE WHEN kind = 'moved_out' THEN village_code END
    FROM dk_exit ORDER BY id
    """,
    """
    INSERT INTO dk_affected (household_id)
    SELECT DISTINCT household_id FROM dk_exit WHERE household_id IS NOT NULL
    ON CONFLICT DO NOTHING
    """,
]


async def apply_exits(
    conn: asyncpg.Connection,
    flag_ids: list[uuid.UUID],
    status: str,
    actor: str,
    exit_date: date,
) -> list[uuid.UUID]:
    """Apply pending exit flags: a death closes the membership as ``died``, a move out
    closes it as ``moved`` and leaves the person without a household. Fills the event
    tables of ``publish.begin``; the caller publishes. The flags applied."""
    if not flag_ids:
        return []
    await conn.execute("DROP TABLE IF EXISTS dk_exit")
    params: dict[int, list[Any]] = {0: [flag_ids], 3: [exit_date], 5: [status, actor]}
    for i, statement in enumerate(_EXIT_SQL):
        await conn.execute(statement, *params.get(i, []))
    return [r["id"] for r in await conn.fetch("SELECT id FROM dk_exit")]


class CannotApply(Exception):
    """The extract's side of a conflict cannot be applied (a stable ``code``)."""

    def __init__(self, code: str, message: dict[str, str]) -> None:
        super().__init__(message["en"])
        self.code = code
        self.message = message


_KEEP_SQL = {
    "person": """
        INSERT INTO dukcapil_person_link (person_id, row_hash, person_version, import_id)
        SELECT p.id, $2, p.version, $3 FROM person p WHERE p.id = $1
        ON CONFLICT (person_id) DO UPDATE SET row_hash = EXCLUDED.row_hash,
            person_version = EXCLUDED.person_version, import_id = EXCLUDED.import_id,
            linked_at = now()
    """,
    "household": """
        INSERT INTO dukcapil_household_link (household_id, row_hash, household_version,
            import_id)
        SELECT h.id, $2, h.version, $3 FROM household h WHERE h.id = $1
        ON CONFLICT (household_id) DO UPDATE SET row_hash = EXCLUDED.row_hash,
            household_version = EXCLUDED.household_version, import_id = EXCLUDED.import_id,
            linked_at = now()
    """,
}

# One dk_b row from a person conflict's proposal ($1 conflict id, $2 target household),
# compared afresh with the record as it is now: taking Dukcapil's side takes all of it.
_PROPOSED_PERSON_SQL = """
    INSERT INTO dk_b (row_no, kk, kk_hash, row_hash, full_name, birth_place, birth_date, sex,
        religion, marital_status, education, occupation, mother_name, relationship,
        target_household_id, person_id, p_version, cur_household_id, cur_village_code,
        cur_kk_hash)
    SELECT 0, 'conflict', coalesce(c.proposed -> 'household' ->> 'kk_hash', h.kk_hash),
           c.row_hash, c.proposed ->> 'full_name', c.proposed ->> 'birth_place',
           (c.proposed ->> 'birth_date')::date, (c.proposed ->> 'sex')::smallint,
           (c.proposed ->> 'religion')::smallint, (c.proposed ->> 'marital_status')::smallint,
           (c.proposed ->> 'education')::smallint, (c.proposed ->> 'occupation')::smallint,
           c.proposed ->> 'mother_name', (c.proposed ->> 'relationship')::smallint,
           CAST($2 AS uuid), p.id, p.version, p.household_id, p.village_code, h.kk_hash
    FROM dukcapil_conflict c JOIN person p ON p.id = c.person_id
    LEFT JOIN household h ON h.id = p.household_id
    WHERE c.id = $1
"""

_PROPOSED_HOUSEHOLD_SQL = """
    INSERT INTO dk_bh (kk, household_id, village_code, dusun, rw, rt, address, hh_hash,
        h_version, h_village_code, h_dusun, h_rw, h_rt, h_address)
    SELECT 'conflict', h.id, c.proposed ->> 'village_code', c.proposed ->> 'dusun',
           c.proposed ->> 'rw', c.proposed ->> 'rt', c.proposed ->> 'address', c.row_hash,
           h.version, h.village_code, h.dusun, h.rw, h.rt, h.address
    FROM dukcapil_conflict c JOIN household h ON h.id = c.household_id
    WHERE c.id = $1
"""


async def resolve_conflict(
    conn: asyncpg.Connection,
    conflict: dict[str, Any],
    resolution: str,
    actor: str,
    today: date,
) -> None:
    """Keep the registry's values (the extract row counts as seen) or take the extract's
    (applied as an import would, with its events). In the caller's transaction."""
    kind = conflict["record_type"]
    record_id = conflict["person_id"] if kind == "person" else conflict["household_id"]
    if resolution == "take_dukcapil":
        prefix = publish.id_prefix()
        await publish.begin(conn)
        await conn.execute(_WORK_TABLES_SQL + _CONFLICT_TABLES_SQL)
        ctx = BatchContext(
            import_id=conflict["import_id"],
            extract_date=today,
            previous_extract_date=None,
            as_of=today,
            auto_apply_exits=False,
            actor=actor,
        )
        if kind == "person":
            target = await _conflict_target(conn, conflict)
            await conn.execute(_PROPOSED_PERSON_SQL, conflict["id"], target)
            await conn.execute(_PERSON_DIFF_SQL)
            await conn.execute("UPDATE dk_b SET action = 'apply'")
            await conn.execute(
                "INSERT INTO dk_bh (kk, household_id, action) VALUES ('conflict', $1, 'unchanged')",
                target,
            )
        else:
            await conn.execute(_PROPOSED_HOUSEHOLD_SQL, conflict["id"])
            await conn.execute(_HOUSEHOLD_DIFF_SQL)
            await conn.execute("UPDATE dk_bh SET action = 'apply'")
        await apply_rows(conn, ctx, prefix)
        await publish.publish(conn, today, prefix)
    else:
        await conn.execute(_KEEP_SQL[kind], record_id, conflict["row_hash"], conflict["import_id"])
    await conn.execute(
        """
        UPDATE dukcapil_conflict SET status = $2, resolved_at = now(), resolved_by = $3
        WHERE id = $1
        """,
        conflict["id"],
        "took_dukcapil" if resolution == "take_dukcapil" else "kept_registry",
        actor,
    )


async def _conflict_target(conn: asyncpg.Connection, conflict: dict[str, Any]) -> Any:
    """The household a person conflict moves the person to (or stays in)."""
    proposed = conflict["proposed"]
    household = proposed.get("household") or {}
    moving = any(f.get("field") == "household" for f in conflict["fields"])
    if not moving:
        return await conn.fetchval(
            "SELECT household_id FROM person WHERE id = $1", conflict["person_id"]
        )
    target = await conn.fetchval(
        "SELECT id FROM household WHERE active AND (id = $1 OR kk_hash = $2)"
        " ORDER BY id = $1 DESC LIMIT 1",
        uuid.UUID(household["household_id"]) if household.get("household_id") else None,
        household.get("kk_hash"),
    )
    if target is None:
        raise CannotApply(
            "household_not_registered",
            {
                "id": "KK tujuan belum terdaftar; daftarkan rumah tangganya dahulu.",
                "en": "The family card moved to is not registered; register it first.",
            },
        )
    return target
