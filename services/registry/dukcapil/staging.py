"""Extract file -> temporary staging tables, checked and normalised in SQL.

The file goes into ``dk_raw`` with one COPY (PostgreSQL parses the CSV); a file COPY
cannot take (a row with a stray delimiter, bad UTF-8) is read by Python's csv module
instead, which sets such rows aside as ``row_malformed``. One set-based statement then
turns the raw text into ``dk_row``: trimmed text, dates, SIAK codes, the village code,
keyed hashes of NIK, KK and mother's NIK (HMAC-SHA256 computed with PostgreSQL's
``sha256``, equal to ``common.pii.lookup_hash``), a row hash, and every reason to
reject the row. ``dk_household`` holds one row per family card, with the address of
its head's row.

Staging tables are temporary: a resumed import stages the same file again, which gives
the same rows, hashes and batches.
"""

import csv
import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import asyncpg
import orjson

from services.registry.dukcapil.extract import (
    CODED_COLUMNS,
    DEATH_DATE,
    KNOWN_COLUMNS,
    ExtractLayout,
    code_map,
)

_HMAC_BLOCK = 64
# Dukcapil's empty markers (mapping._EMPTY), as trimmed text.
_EMPTY = "('', '-', '--', 'NULL', 'null', 'NONE', 'None')"


@dataclass(frozen=True)
class StageResult:
    rows: int
    rejected: int
    malformed: int
    households: int
    batches: int
    unchanged: int  # rows skipped as what the last import saw


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """Inner and outer HMAC-SHA256 pads (RFC 2104) of ``key``."""
    if len(key) > _HMAC_BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_HMAC_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def hmac_sql(value: str, prefix_param: str, key_alias: str = "k") -> str:
    """SQL for the hex HMAC-SHA256 of ``prefix || value`` with the pads in ``dk_key``."""
    return (
        f"encode(sha256({key_alias}.opad || sha256({key_alias}.ipad || {prefix_param}"
        f" || convert_to({value}, 'UTF8'))), 'hex')"
    )


# No regular expressions below: PostgreSQL's regexp_match costs more per row than the
# whole COPY. Digits are checked with translate(), dates split with split_part().


def _digits(expr: str, low: int, high: int | None = None) -> str:
    """``expr`` is low..high (or exactly ``low``) ASCII digits."""
    length = (
        f"length({expr}) = {low}" if high is None else f"length({expr}) BETWEEN {low} AND {high}"
    )
    return f"({length} AND translate({expr}, '0123456789', '') = '')"


def _empty_to_null(expr: str) -> str:
    return f"CASE WHEN {expr} IN {_EMPTY} THEN NULL ELSE {expr} END"


def _days_in_month(year: str, month: str) -> str:
    return (
        f"CASE WHEN {month} = 2 THEN CASE WHEN ({year} % 4 = 0 AND {year} % 100 <> 0)"
        f" OR {year} % 400 = 0 THEN 29 ELSE 28 END"
        f" WHEN {month} IN (4, 6, 9, 11) THEN 30 ELSE 31 END"
    )


def _valid_date(year: str, month: str, day: str) -> str:
    return (
        f"({year} BETWEEN 1 AND 9999 AND {month} BETWEEN 1 AND 12 AND {day} >= 1"
        f" AND {day} <= {_days_in_month(year, month)})"
    )


def _date_parts(name: str) -> str:
    """Level-2 ``{name}_p``: ARRAY[day, month, year] (NULL when unreadable) from level-1
    ``{name}_u`` (the date text with '.' and '/' read as '-'). dd-mm-yyyy is checked with
    LIKE first; other widths and ISO order go through split_part."""
    u = f"{name}_u"
    fast = f"{u} LIKE '__-__-____' AND translate({u}, '0123456789-', '') = ''"
    p1, p2, p3 = (f"split_part({u}, '-', {i})" for i in (1, 2, 3))
    shape = (
        f"split_part({u}, '-', 4) = '' AND {_digits(p2, 1, 2)}"
        f" AND (({_digits(p1, 1, 2)} AND {_digits(p3, 4)})"
        f" OR ({_digits(p1, 4)} AND {_digits(p3, 1, 2)}))"
    )
    return (
        f"CASE WHEN {u} IS NULL THEN NULL"
        f" WHEN {fast} THEN ARRAY[substr({u}, 1, 2)::int, substr({u}, 4, 2)::int,"
        f" substr({u}, 7, 4)::int]"
        f" WHEN {shape} THEN CASE WHEN length({p1}) = 4"
        f" THEN ARRAY[{p3}::int, {p2}::int, {p1}::int]"
        f" ELSE ARRAY[{p1}::int, {p2}::int, {p3}::int] END END AS {name}_p"
    )


def _date_of(name: str) -> str:
    d, m, y = (f"{name}_p[{i}]" for i in (1, 2, 3))
    return f"CASE WHEN {_valid_date(y, m, d)} THEN make_date({y}, {m}, {d}) END"


def _number_date_ok(day: str, month: str, year_2: str, latest: str, earliest: int | None) -> str:
    """Is DDMMYY a real date in 19xx or 20xx, not after ``latest`` (and, for KK issue
    dates, not before ``earliest``)? As nik_rules' latest-century reading."""
    y20, y19 = f"(2000 + {year_2})", f"(1900 + {year_2})"
    floor = f" AND {y19} >= {earliest}" if earliest else ""
    return (
        f"(CASE WHEN {_valid_date(y20, month, day)}"
        f" THEN make_date({y20}, {month}, {day}) <= {latest} ELSE false END"
        f" OR ({_valid_date(y19, month, day)}{floor}))"
    )


def _col(layout: ExtractLayout, name: str) -> str:
    position = layout.position(name)
    return f"c{position}" if position is not None else "NULL::text"


async def stage_file(
    conn: asyncpg.Connection,
    path: Path,
    layout: ExtractLayout,
    *,
    regency_code: str,
    today: date,
    hash_key: bytes,
    batch_rows: int,
    batches: int | None = None,
) -> StageResult:
    """Fill the temporary staging tables for ``path``.

    ``dk_seen`` has every row's hash of its raw values; rows whose hash is what the last
    import linked a person with (``dk_matched``) are unchanged and go no further, unless
    their family card has a changed row or their NIK is repeated in the file. The rest
    are checked and normalised into ``dk_row``, with ``dk_household`` per family card.
    ``batches`` fixes the batch count (a resumed import keeps the first run's).
    """
    for table in STAGING_TABLES:
        await conn.execute(f"DROP TABLE IF EXISTS {table}")
    columns = [f"c{i}" for i in range(len(layout.headers))]
    await conn.execute(
        f"CREATE TEMP TABLE dk_raw ({', '.join(c + ' text' for c in columns)},"
        " row_no integer GENERATED BY DEFAULT AS IDENTITY)"
    )
    await conn.execute("CREATE TEMP TABLE dk_malformed (row_no integer PRIMARY KEY)")
    try:
        await conn.copy_to_table(
            "dk_raw",
            source=str(path),
            columns=columns,
            format="csv",
            header=True,
            delimiter=layout.delimiter,
            encoding="UTF8",
        )
    except (asyncpg.DataError, asyncpg.BadCopyFileFormatError, UnicodeDecodeError):
        await conn.execute("TRUNCATE dk_raw")
        await _python_copy(conn, path, layout, columns)

    await conn.execute(_seen_sql(layout))
    rows = await conn.fetchval("SELECT count(*) FROM dk_seen")
    await conn.execute(_TODO_SQL)
    todo = await conn.fetchval("SELECT count(*) FROM dk_todo")
    batches = batches or max(1, -(-todo // max(1, batch_rows)))
    ipad, opad = hmac_pads(hash_key)
    await conn.execute("CREATE TEMP TABLE dk_key (ipad bytea, opad bytea)")
    await conn.copy_records_to_table("dk_key", records=[(ipad, opad)])
    maps = await _code_maps(conn, layout)
    provinces = [
        r["code"] for r in await conn.fetch("SELECT code FROM region WHERE level = 'province'")
    ]
    await conn.execute(
        _normalise_sql(layout),
        provinces,
        today,
        regency_code,
        batches,
        b"nik\x00",
        *(orjson.dumps(maps[name]).decode() for name in CODED_COLUMNS),
    )
    await conn.execute("CREATE INDEX ON dk_row (batch)")
    await conn.execute("CREATE INDEX ON dk_row (kk)")
    await conn.execute(_DUPLICATES_SQL)
    await conn.execute(_HOUSEHOLDS_SQL, b"kk_number\x00")
    await conn.execute("CREATE INDEX ON dk_household (batch)")
    await conn.execute("CREATE UNIQUE INDEX ON dk_household (kk)")
    await conn.execute(_KK_REGION_SQL)
    await conn.execute("ANALYZE dk_row (batch, kk, ok, nik_hash); ANALYZE dk_household (batch, kk)")
    counts = await conn.fetchrow(
        """
        SELECT count(*) FILTER (WHERE NOT ok) AS rejected,
               (SELECT count(*) FROM dk_household) AS households,
               (SELECT count(*) FROM dk_malformed) AS malformed,
               (SELECT count(*) FROM dk_matched m
                WHERE NOT EXISTS (SELECT 1 FROM dk_todo t WHERE t.row_no = m.row_no))
                   AS unchanged
        FROM dk_row
        """
    )
    return StageResult(
        rows=rows + counts["malformed"],
        rejected=counts["rejected"] + counts["malformed"],
        malformed=counts["malformed"],
        households=counts["households"],
        batches=batches,
        unchanged=counts["unchanged"],
    )


STAGING_TABLES = (
    "dk_raw",
    "dk_seen",
    "dk_matched",
    "dk_todo",
    "dk_row",
    "dk_household",
    "dk_malformed",
    "dk_key",
)


def _seen_sql(layout: ExtractLayout) -> str:
    """Each row's hash over the known columns in a fixed order, whatever the file's."""
    values = ", ".join(_col(layout, name) for name in KNOWN_COLUMNS)
    return f"""
        CREATE TEMP TABLE dk_seen AS
        SELECT row_no, md5(ROW({values})::text)::uuid AS row_hash,
               btrim({_col(layout, "NIK")}) AS nik, btrim({_col(layout, "NO_KK")}) AS kk
        FROM dk_raw
    """


# Rows to check and reconcile: those not seen unchanged, their whole family cards, and
# every row of a NIK the file repeats (to reject them all).
_TODO_SQL = """
    CREATE TEMP TABLE dk_matched AS
    SELECT DISTINCT ON (s.row_no) s.row_no, s.kk, l.person_id
    FROM dk_seen s JOIN dukcapil_person_link l ON l.row_hash = s.row_hash;
    CREATE UNIQUE INDEX ON dk_matched (row_no);
    CREATE TEMP TABLE dk_todo AS
    WITH repeated AS (SELECT nik FROM dk_seen GROUP BY nik HAVING count(*) > 1),
    changed AS (
        SELECT s.row_no, s.kk, s.nik FROM dk_seen s
        WHERE NOT EXISTS (SELECT 1 FROM dk_matched m WHERE m.row_no = s.row_no)
           OR s.nik IN (SELECT nik FROM repeated)
    )
    SELECT s.row_no FROM dk_seen s
    WHERE s.kk IN (SELECT kk FROM changed) OR s.row_no IN (SELECT row_no FROM changed);
    CREATE UNIQUE INDEX ON dk_todo (row_no);
    ANALYZE dk_matched; ANALYZE dk_todo;
"""


async def _python_copy(
    conn: asyncpg.Connection, path: Path, layout: ExtractLayout, columns: list[str]
) -> None:
    """The slow path for files COPY refuses: rows with the wrong width are set aside."""
    width = len(layout.headers)
    good: list[tuple] = []
    bad: list[tuple[int]] = []
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as f:
        reader = csv.reader(f, delimiter=layout.delimiter)
        next(reader, None)
        for row_no, row in enumerate(reader, start=1):
            if len(row) == width:
                good.append((*row, row_no))
            elif any(v.strip() for v in row):
                bad.append((row_no,))
    await conn.copy_records_to_table("dk_raw", records=good, columns=[*columns, "row_no"])
    await conn.copy_records_to_table("dk_malformed", records=bad)


async def _code_maps(conn: asyncpg.Connection, layout: ExtractLayout) -> dict[str, dict]:
    """Each coded column's distinct values -> SIAK code, read by ``mapping``, over the
    rows to check (rows seen unchanged are not normalised again)."""
    present = [
        (name, _col(layout, name)) for name in CODED_COLUMNS if layout.position(name) is not None
    ]
    if not present:
        return {name: {} for name in CODED_COLUMNS}
    # One pass, one hash table per column (grouping sets): a row of the answer holds
    # one column's value, the others are NULL. 1.6 s for a million rows, against 2.3 s
    # for DISTINCT over six (name, value) pairs a row.
    selected = ", ".join(f"btrim({col}) AS c{i}" for i, (_, col) in enumerate(present))
    sets = ", ".join(f"({i + 1})" for i in range(len(present)))
    rows = await conn.fetch(
        f"SELECT {selected} FROM dk_todo JOIN dk_raw USING (row_no) GROUP BY GROUPING SETS ({sets})"
    )
    found: dict[str, list[str]] = {name: [] for name in CODED_COLUMNS}
    for r in rows:
        for i, (name, _) in enumerate(present):
            if r[i] is not None:
                found[name].append(r[i])
    return {name: code_map(name, raws) for name, raws in found.items()}


def _normalise_sql(layout: ExtractLayout) -> str:
    """$1 province codes, $2 today, $3 regency, $4 batches, $5 the NIK hash prefix,
    $6.. one code map (jsonb) per ``CODED_COLUMNS`` entry, in order."""

    def col(name: str) -> str:
        return _col(layout, name)

    def code(name: str) -> str:
        n = 6 + list(CODED_COLUMNS).index(name)
        return f"(CAST(${n} AS jsonb) ->> btrim({col(name)}))::smallint"

    trimmed = {
        "nik": "NIK",
        "kk": "NO_KK",
        "nik_ibu": "NIK_IBU",
        "name_t": "NAMA_LGKP",
        "place_t": "TMPT_LHR",
        "mother_t": "NAMA_LGKP_IBU",
        "address_t": "ALAMAT",
        "dusun_t": "DUSUN",
        "rt_t": "NO_RT",
        "rw_t": "NO_RW",
        "prop": "NO_PROP",
        "kab": "NO_KAB",
        "kec": "NO_KEC",
        "kel": "NO_KEL",
    }
    level1 = [f"btrim({col(source)}) AS {name}" for name, source in trimmed.items()]
    level1 += [f"{code(name)} AS {attribute}" for name, attribute in CODED_COLUMNS.items()]
    for name, source in (("birth", "TGL_LHR"), (DEATH_DATE.lower(), DEATH_DATE)):
        text = f"btrim({col(source)})"
        level1.append(
            f"CASE WHEN {text} IN {_EMPTY} THEN NULL"
            f" ELSE translate(split_part(split_part({text}, ' ', 1), 'T', 1), './', '--')"
            f" END AS {name}_u"
        )
    # One translate() for the usual row whose numbers are all plain digits.
    numbers = " || ".join(col(c) for c in ("NIK", "NO_KK", "NO_PROP", "NO_KAB", "NO_KEC", "NO_KEL"))
    level1.append(f"translate({numbers}, '0123456789', '') = '' AS plain_numbers")
    death = DEATH_DATE.lower()
    level2 = [
        "l1.*",
        *(
            f"{_empty_to_null(t)} AS {t[:-2]}"
            for t in ("name_t", "place_t", "mother_t", "address_t", "dusun_t")
        ),
        _date_parts("birth"),
        _date_parts(death),
        f"CASE WHEN plain_numbers THEN length(nik) = 16 ELSE {_digits('nik', 16)} END AS nik_shape",
        f"CASE WHEN plain_numbers THEN length(kk) = 16 ELSE {_digits('kk', 16)} END AS kk_shape",
        f"{_digits('nik_ibu', 16)} AS ibu_shape",
        f"""CASE WHEN (plain_numbers OR ({_digits("prop", 1, 2)} AND {_digits("kab", 1, 2)}
                  AND {_digits("kec", 1, 2)} AND {_digits("kel", 4)}))
                  AND length(prop) BETWEEN 1 AND 2 AND length(kab) BETWEEN 1 AND 2
                  AND length(kec) BETWEEN 1 AND 2 AND length(kel) = 4
                  AND prop::int BETWEEN 11 AND 99 AND kab::int BETWEEN 1 AND 99
                  AND kec::int BETWEEN 1 AND 99 AND kel::int BETWEEN 1001 AND 3999
             THEN lpad(prop, 2, '0') || '.' || lpad(kab, 2, '0') || '.'
                  || lpad(kec, 2, '0') || '.' || kel END AS village_code""",
        f"CASE WHEN {_digits('rt_t', 1, 4)} AND rt_t::int > 0 THEN (rt_t::int)::text END AS rt",
        f"CASE WHEN {_digits('rw_t', 1, 4)} AND rw_t::int > 0 THEN (rw_t::int)::text END AS rw",
    ]
    level3 = [
        "l2.*",
        f"{_date_of('birth')} AS birth_date",
        f"{_date_of(death)} AS death_date",
        "CASE WHEN nik_shape THEN substr(nik, 7, 2)::int > 40 END AS nik_female",
        "CASE WHEN nik_shape THEN substr(nik, 7, 2)::int % 40 END AS nik_dd",
        "CASE WHEN nik_shape THEN substr(nik, 9, 2)::int END AS nik_mm",
        "CASE WHEN nik_shape THEN substr(nik, 11, 2)::int END AS nik_yy",
        "CASE WHEN kk_shape THEN substr(kk, 7, 2)::int END AS kk_dd",
        "CASE WHEN kk_shape THEN substr(kk, 9, 2)::int END AS kk_mm",
        "CASE WHEN kk_shape THEN substr(kk, 11, 2)::int END AS kk_yy",
        "rg.code IS NOT NULL AS region_known",
    ]
    level4 = [
        "l3.*",
        f"coalesce(nik_shape AND {_number_date_ok('nik_dd', 'nik_mm', 'nik_yy', '$2', None)},"
        " false) AS nik_date_ok",
        f"coalesce(kk_shape AND {_number_date_ok('kk_dd', 'kk_mm', 'kk_yy', '$2', 1970)},"
        " false) AS kk_date_ok",
    ]
    reasons = [
        ("nik_invalid", "NOT nik_shape"),
        ("nik_province_unknown", "nik_shape AND NOT (substr(nik, 1, 2) = ANY($1::text[]))"),
        (
            "nik_region_invalid",
            "nik_shape AND (substr(nik, 3, 2) = '00' OR substr(nik, 5, 2) = '00')",
        ),
        ("nik_serial_zero", "nik_shape AND substr(nik, 13, 4) = '0000'"),
        ("nik_date_invalid", "nik_shape AND NOT nik_date_ok"),
        (
            "nik_birth_date_mismatch",
            "nik_date_ok AND birth_date IS NOT NULL AND (nik_dd <> birth_p[1]"
            " OR nik_mm <> birth_p[2] OR nik_yy <> birth_p[3] % 100)",
        ),
        (
            "nik_sex_mismatch",
            "nik_date_ok AND sex IS NOT NULL AND sex <> CASE WHEN nik_female THEN 2 ELSE 1 END",
        ),
        ("kk_invalid", "NOT kk_shape"),
        ("kk_province_unknown", "kk_shape AND NOT (substr(kk, 1, 2) = ANY($1::text[]))"),
        ("kk_region_invalid", "kk_shape AND (substr(kk, 3, 2) = '00' OR substr(kk, 5, 2) = '00')"),
        ("kk_serial_zero", "kk_shape AND substr(kk, 13, 4) = '0000'"),
        ("kk_issue_date_invalid", "kk_shape AND NOT kk_date_ok"),
        ("name_missing", "name IS NULL"),
        ("sex_invalid", "sex IS NULL"),
        ("birth_date_invalid", "birth_date IS NULL OR birth_date < DATE '1900-01-01'"),
        ("birth_date_in_future", "birth_date > $2"),
        ("death_date_invalid", f"{death}_u IS NOT NULL AND death_date IS NULL"),
        ("death_date_in_future", "death_date > $2"),
        ("death_before_birth", "death_date < birth_date"),
        ("region_invalid", "village_code IS NULL"),
        ("region_unknown", "village_code IS NOT NULL AND NOT region_known"),
        (
            "region_outside_regency",
            "region_known AND NOT starts_with(village_code, $3::text || '.')",
        ),
    ]
    reason_array = ",\n".join(f"CASE WHEN {cond} THEN '{code}' END" for code, cond in reasons)
    nik_hash = hmac_sql("nik", "$5")
    mother_hash = hmac_sql("nik_ibu", "$5")
    return f"""
        CREATE TEMP TABLE dk_row AS
        SELECT row_no, batch, nik, kk, name AS full_name, place AS birth_place, birth_date,
               sex, religion, marital_status, relationship, education, occupation,
               mother AS mother_name, death_date, village_code, dusun, rw, rt, address,
               reasons, reasons = '{{}}' AS ok,
               CASE WHEN nik_shape THEN {nik_hash} END AS nik_hash,
               CASE WHEN ibu_shape THEN {mother_hash} END AS mother_hash,
               row_hash
        FROM (
            SELECT l4.*, coalesce(abs(hashtext(kk)) % $4, 0) AS batch,
                   array_remove(ARRAY[{reason_array}], NULL) AS reasons
            FROM (
                SELECT {", ".join(level4)}
                FROM (
                    SELECT {", ".join(level3)}
                    FROM (
                        SELECT {", ".join(level2)}
                        FROM (SELECT row_no, s.row_hash, {", ".join(level1)}
                              FROM dk_todo JOIN dk_raw USING (row_no)
                              JOIN dk_seen s USING (row_no) OFFSET 0) l1
                        OFFSET 0
                    ) l2
                    LEFT JOIN region rg ON rg.code = l2.village_code AND rg.level = 'village'
                    OFFSET 0
                ) l3
                OFFSET 0
            ) l4
            OFFSET 0
        ) l5 CROSS JOIN dk_key k
    """


_DUPLICATES_SQL = """
    UPDATE dk_row r SET ok = false, reasons = r.reasons || d.reason
    FROM (
        SELECT nik, CASE WHEN count(DISTINCT kk) > 1 THEN 'nik_in_two_kks'
                         ELSE 'nik_duplicate' END AS reason
        FROM dk_row WHERE nik_hash IS NOT NULL GROUP BY nik HAVING count(*) > 1
    ) d
    WHERE r.nik = d.nik
"""

# One row per family card: its address from the head's row (else the first row).
_HOUSEHOLDS_SQL = f"""
    CREATE TEMP TABLE dk_household AS
    SELECT d.*, {hmac_sql("d.kk", "$1")} AS kk_hash,
           md5(concat_ws('|', d.village_code, d.dusun, d.rw, d.rt, d.address))::uuid
               AS hh_hash
    FROM (
        SELECT DISTINCT ON (kk) kk, batch, village_code, dusun, rw, rt, address
        FROM dk_row WHERE ok
        ORDER BY kk, (relationship = 1) DESC NULLS LAST, row_no
    ) d CROSS JOIN dk_key k
"""

_KK_REGION_SQL = """
    UPDATE dk_row r SET ok = false, reasons = r.reasons || 'kk_region_mismatch'::text
    FROM dk_household h
    WHERE h.kk = r.kk AND r.ok AND h.village_code <> r.village_code
"""
