"""The export stream's framing, its CSV form and the download links, without a database."""

import csv
import io
import json
import random

import numpy as np
import pytest

from common.pii import mask_name
from gateway.exports.frames import CsvConverter, FrameReader, StreamError
from gateway.exports.links import LinkCheck, LinkSigner
from services.registry.exports.datasets import initials
from services.registry.seed import names

ROWS = [{"id": str(i), "name": f"A. B. {i}", "n": i * 1.5, "ok": i % 2 == 0} for i in range(50)]
HEADER = {"kkb_export": {"dataset": "persons", "columns": ["id", "name", "n", "ok"]}}


def _stream(rows: list[dict], footer_rows: int | None = None) -> bytes:
    lines = [json.dumps(HEADER)] + [json.dumps(r) for r in rows]
    if footer_rows is not None:
        lines.append(json.dumps({"kkb_export_end": {"rows": footer_rows}}))
    return ("\n".join(lines) + "\n").encode()


def _chunks(data: bytes, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    out, i = [], 0
    while i < len(data):
        step = rng.randint(1, 40)
        out.append(data[i : i + step])
        i += step
    return out


@pytest.mark.parametrize("seed", range(5))
def test_any_chunking_gives_back_exactly_the_rows(seed):
    reader = FrameReader()
    body = b"".join(reader.feed(c) for c in _chunks(_stream(ROWS, len(ROWS)), seed))
    reader.finish()
    assert [json.loads(line) for line in body.splitlines()] == ROWS
    assert reader.rows == len(ROWS)
    assert reader.columns == ["id", "name", "n", "ok"]


def test_a_cut_stream_is_detected():
    for data in (
        _stream(ROWS),  # no footer
        _stream(ROWS, len(ROWS))[:-30],  # cut inside the footer
        _stream(ROWS, len(ROWS) + 1),  # footer disagrees
        b"",  # nothing at all
    ):
        reader = FrameReader()
        for chunk in _chunks(data, 1):
            reader.feed(chunk)
        with pytest.raises(StreamError):
            reader.finish()


def test_a_stream_without_header_is_refused():
    with pytest.raises(StreamError):
        FrameReader().feed(b'{"id": 1}\n')


def test_csv_conversion():
    converter = CsvConverter(["id", "name", "n", "ok", "missing"])
    lines = b"".join(json.dumps(r).encode() + b"\n" for r in ROWS[:3])
    lines += json.dumps({"id": "x", "name": 'Quote "and", comma', "n": None, "ok": True}).encode()
    text = (converter.header_line() + converter.convert(lines + b"\n")).decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["id", "name", "n", "ok", "missing"]
    assert rows[1] == ["0", "A. B. 0", "0.0", "true", ""]
    assert rows[2] == ["1", "A. B. 1", "1.5", "false", ""]
    assert rows[4] == ["x", 'Quote "and", comma', "", "true", ""]


def test_links():
    signer = LinkSigner.from_secret("a-secret-that-is-long-enough-0123456789")
    url = signer.url("http://gw", "job-1", "persons.ndjson", 1000)
    sig = url.split("sig=")[1]
    assert url.startswith("http://gw/v1/exports/job-1/files/persons.ndjson?expires=1000&sig=")
    assert signer.check("job-1", "persons.ndjson", 1000, sig, now=999) is LinkCheck.ok
    assert signer.check("job-1", "persons.ndjson", 1000, sig, now=1000) is LinkCheck.expired
    assert signer.check("job-1", "persons.ndjson", 2000, sig, now=999) is LinkCheck.invalid
    assert signer.check("job-2", "persons.ndjson", 1000, sig, now=999) is LinkCheck.invalid
    assert signer.check("job-1", "households.ndjson", 1000, sig, now=999) is LinkCheck.invalid
    other = LinkSigner.from_secret("another-secret-that-is-long-enough-012345")
    assert other.check("job-1", "persons.ndjson", 1000, sig, now=999) is LinkCheck.invalid


def test_export_initials_are_common_pii_initials():
    """The export masks names word by word (cached); it must give mask_name's answer."""
    rng = np.random.default_rng(7)
    samples = list(names.full_names(rng, rng.integers(1, 3, 2000)))
    samples += [
        "Nur'aini binti Ahmad",
        "  'Aini,  Siti ",
        "Ａｈｍａｄ Ｙａｎｉ",  # full-width letters, folded by NFKC
        "Éric O’Brien-Saputra",
        "-- ,,",
        "",
        "Dg. Mappa\tla\u00a0Tanri",
        "A\x1cB\x1fC\x0bD\x0cE",  # ASCII separators that count as whitespace
        "budi,santoso ,  'sari' ..x 3rd",
        "___ -_- ?!",
    ]
    for name in samples:
        assert initials(name) == mask_name(name), name
    assert initials(None) is None
