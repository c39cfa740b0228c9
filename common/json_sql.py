"""JSON text built in SQL by concatenation, for bulk writers of feed payloads.

The outbox stores payloads as ``json`` text, checked on the way in (``json_in``). Built
by ``json_build_object`` a payload costs about twice what plain concatenation of the
same pieces costs, and the bulk paths write hundreds of thousands of them. Keys are our
own constants; every value goes through one of the helpers below, so strings are always
escaped (``to_json``) and dates always ISO 8601, whatever the session's DateStyle.
"""

from collections.abc import Sequence

NULL = "'null'"


def json_object(fields: Sequence[tuple[str, str]]) -> str:
    """A SQL expression of the JSON object text with ``fields`` in order: (key, a SQL
    expression that yields JSON text, from the helpers here or another ``json_object``)."""
    pieces = []
    for i, (key, value) in enumerate(fields):
        if not key.isidentifier():
            raise ValueError(f"JSON key {key!r} would need escaping")
        pieces += [f"""'{"," if i else "{"}"{key}":'""", value]
    return f"concat({', '.join(pieces)}, '}}')"


def json_value(expr: str) -> str:
    """Any scalar (text escaped, dates ISO 8601), or null."""
    return f"COALESCE(to_json({expr})::text, 'null')"


def json_uuid(expr: str) -> str:
    """A uuid (its text never needs escaping), or null."""
    return f"""COALESCE('"' || ({expr})::text || '"', 'null')"""


def json_plain(expr: str) -> str:
    """A number or boolean, whose SQL text is its JSON text, or null."""
    return f"COALESCE(({expr})::text, 'null')"


def json_array(items: Sequence[str]) -> str:
    """A JSON array text of the ``items`` (SQL expressions yielding JSON text or NULL):
    NULL items are left out."""
    return f"concat('[', concat_ws(',', {', '.join(items)}), ']')"
