"""Which permission a service route needs, learnt from the service's OpenAPI document.

Services declare each route's operation with ``require("...")``; ``common.app`` publishes
it as ``x-kkb-operation`` on the route's OpenAPI operation. The gateway matches a request
against those path templates the way Starlette does (document order, first template
whose path and method match) and refuses a forbidden call before forwarding it.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

OPERATION_EXTENSION = "x-kkb-operation"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_PARAM = re.compile(r"\{[^}/]+\}")


@dataclass(frozen=True)
class _Template:
    pattern: re.Pattern[str]
    # Upper-case method -> the operations the route requires (empty: none declared).
    methods: Mapping[str, tuple[str, ...]]


def declared_operations(operation: Mapping[str, Any]) -> tuple[str, ...]:
    """The ``x-kkb-operation`` of one OpenAPI operation object, as a tuple."""
    value = operation.get(OPERATION_EXTENSION)
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def _compile(template: str) -> re.Pattern[str]:
    pieces, last = [], 0
    for param in _PARAM.finditer(template):
        pieces.append(re.escape(template[last : param.start()]))
        pieces.append("[^/]+")
        last = param.end()
    pieces.append(re.escape(template[last:]))
    return re.compile("".join(pieces) + r"\Z")


def _bucket(path: str) -> tuple[int, str | None]:
    """Index key: number of segments and the resource segment (``/v1/<resource>/…``)."""
    parts = path.split("/")
    resource = parts[2] if len(parts) > 2 and "{" not in parts[2] else None
    return len(parts), resource


class RouteTable:
    """Path templates of one service with the operations each method requires."""

    def __init__(self, paths: Mapping[str, Mapping[str, Any]]) -> None:
        self._buckets: dict[tuple[int, str | None], list[_Template]] = {}
        for path, item in paths.items():
            methods = {
                method.upper(): declared_operations(op)
                for method, op in item.items()
                if method in HTTP_METHODS and isinstance(op, Mapping)
            }
            self._buckets.setdefault(_bucket(path), []).append(_Template(_compile(path), methods))
        self.size = len(paths)

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> "RouteTable":
        return cls(document.get("paths") or {})

    def operations(self, method: str, path: str) -> tuple[str, ...] | None:
        """Operations required for ``method path``; ``None`` when no route matches.

        Templates whose resource segment is itself a parameter are tried after the
        literal ones, which is where they sort in practice (``/v1/households/{id}``
        is never shadowed by ``/v1/{anything}``).
        """
        count, resource = _bucket(path)
        for key in dict.fromkeys(((count, resource), (count, None))):
            for template in self._buckets.get(key, ()):
                if template.pattern.match(path) and method in template.methods:
                    return template.methods[method]
        return None
