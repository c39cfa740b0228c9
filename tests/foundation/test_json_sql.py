"""JSON text built in SQL (common/json_sql.py): valid, escaped and ISO whatever the
session's settings, against PostgreSQL's own JSON functions."""

import orjson
import pytest

from common.json_sql import NULL, json_array, json_object, json_plain, json_uuid, json_value
from kkb.bootstrap import as_service

_ROW = """
    SELECT 'Nur''aini "Siti" \\ tab	end'::text AS name, DATE '2024-02-29' AS born,
           gen_random_uuid() AS id, CAST(NULL AS uuid) AS none_id, 7::smallint AS n,
           2.5::float8 AS x, true AS yes, CAST(NULL AS date) AS no_day
"""


@pytest.mark.parametrize("datestyle", ["ISO, DMY", "SQL, DMY", "German"])
async def test_json_text_matches_json_build_object(db_url, datestyle):
    expression = json_object(
        [
            ("name", json_value("name")),
            ("born", json_value("born")),
            ("id", json_uuid("id")),
            ("none_id", json_uuid("none_id")),
            ("n", json_plain("n")),
            ("x", json_plain("x")),
            ("yes", json_plain("yes")),
            ("no_day", json_value("no_day")),
            ("nothing", NULL),
            ("list", json_array([json_value("born"), "NULL", json_plain("n")])),
            ("empty", json_array(["NULL"])),
        ]
    )
    async with as_service(db_url, "registry") as conn, conn.transaction():
        await conn.execute(f"SET LOCAL DateStyle = '{datestyle}'")
        ours, theirs = await conn.fetchrow(
            f"""
            SELECT CAST({expression} AS json)::text,
                   json_build_object('name', name, 'born', born, 'id', id, 'none_id', none_id,
                       'n', n, 'x', x, 'yes', yes, 'no_day', no_day, 'nothing', NULL,
                       'list', json_build_array(born, n), 'empty', json_build_array())::text
            FROM ({_ROW}) r
            """
        )
    assert orjson.loads(ours) == orjson.loads(theirs)
    assert orjson.loads(ours)["born"] == "2024-02-29"


def test_keys_that_would_need_escaping_are_refused():
    with pytest.raises(ValueError, match="escaping"):
        json_object([('a"b', NULL)])
