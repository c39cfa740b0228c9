"""Reading a service's framed NDJSON export stream, and writing it as NDJSON or CSV.

The stream (common/export_stream.py): a header line ``{"kkb_export": …}``,
one JSON object per row, a footer line ``{"kkb_export_end": {"rows": n}}``. The reader
takes transport chunks of any size and hands out whole row lines, holding back the
last line until the stream ends (it may be the footer). A stream without its footer,
or whose footer disagrees with the rows seen, was cut short.
"""

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson


class StreamError(Exception):
    """The export stream is malformed or incomplete."""


@dataclass
class FrameReader:
    header: dict[str, Any] | None = None
    rows: int = 0
    _carry: bytes = b""

    def feed(self, chunk: bytes) -> bytes:
        """Whole row lines (NDJSON, newline-terminated) available so far."""
        data = self._carry + chunk
        if self.header is None:
            end = data.find(b"\n")
            if end < 0:
                self._carry = data
                return b""
            first = orjson.loads(data[:end])
            if not isinstance(first, dict) or "kkb_export" not in first:
                raise StreamError("the stream does not start with an export header")
            self.header = first["kkb_export"]
            data = data[end + 1 :]
        # Everything up to the start of the last complete-or-partial line is rows.
        cut = data.rfind(b"\n", 0, len(data) - 1) + 1
        rows, self._carry = data[:cut], data[cut:]
        self.rows += rows.count(b"\n")
        return rows

    def finish(self) -> None:
        """Check the footer; raises :class:`StreamError` if the stream was cut."""
        if self.header is None:
            raise StreamError("the stream ended before its header")
        try:
            last = orjson.loads(self._carry)
        except orjson.JSONDecodeError as exc:
            raise StreamError("the stream ended inside a row") from exc
        if not isinstance(last, dict) or "kkb_export_end" not in last:
            raise StreamError("the stream ended without its footer")
        if last["kkb_export_end"].get("rows") != self.rows:
            raise StreamError(
                f"the footer counts {last['kkb_export_end'].get('rows')} rows, "
                f"the stream had {self.rows}"
            )

    @property
    def columns(self) -> list[str]:
        assert self.header is not None
        return list(self.header["columns"])


def csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return value


@dataclass
class CsvConverter:
    """NDJSON row lines → CSV text, columns in the header's order."""

    columns: list[str]
    _buffer: io.StringIO = field(default_factory=io.StringIO)

    def __post_init__(self) -> None:
        self._writer = csv.writer(self._buffer, lineterminator="\n")

    def header_line(self) -> bytes:
        return self._take(lambda: self._writer.writerow(self.columns))

    def convert(self, lines: bytes) -> bytes:
        columns = self.columns

        def write() -> None:
            for line in lines.splitlines():
                if line:
                    row = orjson.loads(line)
                    self._writer.writerow([csv_cell(row.get(c)) for c in columns])

        return self._take(write)

    def _take(self, write: Callable[[], Any]) -> bytes:
        write()
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text.encode()
