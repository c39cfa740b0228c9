"""``person.*`` feed payloads built in SQL, for the bulk paths (seed, Dukcapil import):
the set-based twin of ``persons.service.person_payload``, as JSON text (common/json_sql).
"""

from collections.abc import Sequence

from common.json_sql import json_object, json_plain, json_uuid, json_value


def person_payload_sql(p: str, target_groups: str, extra: Sequence[tuple[str, str]] = ()) -> str:
    """The payload of the person row ``p`` (columns of the ``person`` table), with the
    JSON text ``target_groups`` and ``extra`` (key, JSON text) fields after them."""
    return json_object(
        [
            ("person_id", json_uuid(f"{p}.id")),
            ("household_id", json_uuid(f"{p}.household_id")),
            ("village_code", json_value(f"{p}.village_code")),
            ("sex", json_plain(f"{p}.sex")),
            ("birth_date", json_value(f"{p}.birth_date")),
            ("relationship", json_plain(f"{p}.relationship")),
            ("marital_status", json_plain(f"{p}.marital_status")),
            ("alive", json_plain(f"{p}.death_date IS NULL")),
            ("death_date", json_value(f"{p}.death_date")),
            ("has_nik", json_plain(f"{p}.nik_enc IS NOT NULL")),
            ("has_birth_certificate", json_plain(f"{p}.has_birth_certificate")),
            ("target_groups", target_groups),
            *extra,
        ]
    )
