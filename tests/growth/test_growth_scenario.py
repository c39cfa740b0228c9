"""Scenario 2 of SCENARIOS.md, end to end through the gateway: a midwife uploads the CSV
of 40 children weighed and measured this morning at the posyandu. Each row gets WHO
z-scores and a classification; two weights typed in grams come back as row errors; the
rest are stored. The 14-month-old son of scenario 1 is 2.3 SD below the median length:
stunted, and his growth chart shows his points against the WHO curves."""

from datetime import timedelta

import pytest

from tests.growth import expect
from tests.growth.conftest import FEMALE, KALI_NILAM, MALE, Child, register_children
from tests.registry import factories as f

SON_AGE_DAYS = 14 * 30 + 5  # the 14-month-old of scenario 1
HEADER = (
    "NIK;ID Registrasi;Nama Anak;JK;Tgl Lahir;Tanggal Pengukuran;BB;TB;Cara Ukur;LiLA;"
    "Lingkar Kepala;Edema;Posyandu"
)
GRAM_ROWS = (7, 23)  # indexes (0-based, among the 40 children) typed in grams


def _dmy(day) -> str:
    return day.strftime("%d/%m/%Y")


def _comma(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


@pytest.fixture(scope="module")
def posyandu_children(operator) -> tuple[Child, list[Child]]:
    """The scenario-1 family (the son has no NIK yet) and 13 more families of three
    under-fives each: 40 children of Kali Nilam."""
    t = f.today()
    [son] = register_children(
        operator, [("Bayu Sintetis", MALE, t - timedelta(days=SON_AGE_DAYS), False)]
    )
    others: list[Child] = []
    for h in range(13):
        specs = []
        for k in range(3):
            n = h * 3 + k
            age = 20 + n * 46  # 20 … 1814 days: every age band of 0-59 months
            specs.append(
                (
                    f"Balita{n:02d} Sintetis",
                    MALE if n % 2 else FEMALE,
                    t - timedelta(days=age),
                    n % 4 != 0,
                )
            )
        others += register_children(operator, specs)
    return son, others


def _row(child: Child, weight: str, height: float, measure: str, muac: str) -> str:
    return ";".join(
        [
            child.nik or "",
            "" if child.nik else child.id,
            child.name,
            "L" if child.sex == MALE else "P",
            _dmy(child.birth_date),
            _dmy(f.today()),
            weight,
            _comma(height),
            measure,
            muac,
            "",
            "tidak",
            "Posyandu Melati",
        ]
    )


@pytest.fixture(scope="module")
def posyandu_day(midwife, posyandu_children) -> dict:
    """This morning's file of 40 rows, uploaded by the midwife (multipart form)."""
    son, others = posyandu_children
    children = [son, *others]
    t = f.today()
    expected: dict[str, dict] = {}
    lines = [HEADER]
    for i, child in enumerate(children):
        age = (t - child.birth_date).days
        if child is son:
            height = round(expect.length_at(MALE, age, -2.3), 1)
            weight = round(expect.weight_at(MALE, age, -1.2), 1)
        else:
            height = round(expect.median_length(child.sex, age) * (0.95 + (i % 5) * 0.02), 1)
            weight = round(expect.weight_at(child.sex, age, -1.5 + (i % 7) * 0.5), 1)
        typed = str(round(weight * 1000)) if i in GRAM_ROWS else _comma(weight)
        measure = "Terlentang" if age < 731 else "Berdiri"
        muac = _comma(14.5) if age >= 183 else ""
        lines.append(_row(child, typed, height, measure, muac))
        expected[child.id] = {"age": age, "height": height, "weight": weight, "row": i + 2}
    csv_text = "\n".join(lines) + "\n"

    r = midwife.post(
        "/v1/growth/uploads",
        files={"file": ("posyandu-melati.csv", csv_text.encode(), "text/csv")},
    )
    assert r.status_code == 201, r.text
    return {"report": r.json(), "son": son, "children": children, "expected": expected}


def test_posyandu_day(midwife, midwife_masked, posyandu_day):
    report, son = posyandu_day["report"], posyandu_day["son"]
    children, expected = posyandu_day["children"], posyandu_day["expected"]
    assert (report["rows"], report["stored"], report["rejected"]) == (40, 38, 2)
    assert report["file_name"] == "posyandu-melati.csv"
    assert sorted((e["row"], e["column"], e["code"]) for e in report["errors"]) == [
        (GRAM_ROWS[0] + 2, "BB", "weight_in_grams"),
        (GRAM_ROWS[1] + 2, "BB", "weight_in_grams"),
    ]
    assert all(set(e["message"]) == {"id", "en"} for e in report["errors"])
    assert "gram" in report["errors"][0]["message"]["id"]

    # Every stored row has the z-scores the WHO tables give, and a classification.
    results = {res["person_id"]: res for res in report["results"]}
    assert len(results) == 38
    rejected = {children[i].id for i in GRAM_ROWS}
    assert set(results) == {c.id for c in children} - rejected
    for child in children:
        if child.id in rejected:
            continue
        e, res = expected[child.id], results[child.id]
        zlen = expect.zlen(child.sex, e["age"], e["height"])
        zwei = expect.zwei(child.sex, e["age"], e["weight"])
        assert res["row"] == e["row"]
        assert res["zlen"] == pytest.approx(round(zlen, 2), abs=1e-9), child.name
        assert res["zwei"] == pytest.approx(round(zwei, 2), abs=1e-9), child.name
        assert res["class_len"] == expect.class_len(zlen)
        assert res["class_wei"] == expect.class_wei(zwei)
        assert res["class_wfl"] is not None

    # The son: 2.3 SD below the median length for his age, stunted.
    mine = results[son.id]
    assert mine["zlen"] == pytest.approx(-2.3, abs=0.03)
    assert mine["class_len"] == "stunted"
    history = midwife.get(f"/v1/growth/children/{son.id}/measurements").json()
    [visit] = history["measurements"]
    assert visit["class_len"]["code"] == "stunted"
    assert visit["class_len"]["label"] == {"en": "Stunted", "id": "Pendek"}
    assert visit["counted"] is True and visit["place"] == "posyandu"
    assert visit["posyandu_name"] == "Posyandu Melati" and visit["measure"] == "l"
    assert visit["muac_cm"] == 14.5 and visit["upload_id"] == report["upload_id"]

    # His chart: WHO curves and his point; his name only for a caller who may see it.
    svg = midwife.get(f"/v1/growth/children/{son.id}/chart", params={"indicator": "lhfa"})
    assert svg.status_code == 200, svg.text
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.lstrip().startswith("<?xml") and "<svg" in svg.text
    assert "Bayu Sintetis" in svg.text
    masked = midwife_masked.get(f"/v1/growth/children/{son.id}/chart")
    assert masked.status_code == 200 and "<svg" in masked.text
    assert "Bayu" not in masked.text
    png = midwife.get(
        f"/v1/growth/children/{son.id}/chart", params={"indicator": "wflh", "format": "png"}
    )
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")
    again = midwife_masked.get(f"/v1/growth/children/{son.id}/chart")
    assert again.content == masked.content  # deterministic output

    # The upload's report can be fetched again.
    summary = midwife.get(f"/v1/growth/uploads/{report['upload_id']}")
    assert summary.status_code == 200
    assert (summary.json()["stored"], len(summary.json()["errors"])) == (38, 2)


def test_posyandu_day_on_the_feed(posyandu_day, feed):
    """38 measurement.recorded events, published by one set-based statement."""
    report, son = posyandu_day["report"], posyandu_day["son"]
    ids = {res["measurement_id"] for res in report["results"]}
    events = feed.for_aggregates(ids, at_least=38)
    assert len(events) == 38
    assert {e["type"] for e in events} == {"measurement.recorded"}
    assert all(set(e["payload"]) == expect.MEASUREMENT_PAYLOAD_KEYS for e in events)
    son_event = next(e for e in events if e["payload"]["person_id"] == son.id)
    assert son_event["payload"]["class_len"] == "stunted"
    assert son_event["region_code"] == KALI_NILAM
