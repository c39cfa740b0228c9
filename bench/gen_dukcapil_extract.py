"""Generate a synthetic Dukcapil regency extract (CSV), and a changed copy of it.

    .venv/bin/python bench/gen_dukcapil_extract.py --persons 1000000 --out /tmp/extract.csv \
        [--changed-out /tmp/extract_5pct.csv --changed-rate 0.05] [--regency 61.04] \
        [--seed 1] [--as-of 2026-07-01]

The people are ``services.registry.seed.population.generate``'s (the population ``kkb
seed`` loads and the simulator serves), written one row per person with a NIK in the
field names and label style of DOMAIN.md: uppercase labels, dd-mm-yyyy dates, unpadded
region numbers. The changed copy applies, to a share of the people, births (with the
mother's NIK), newcomer families on new KK numbers, deaths (``TGL_MATI``), moves to
another family card of the regency, moves out of the regency (rows gone) and changed
attributes; ``Expected`` lists exactly what was changed, so tests can compare an
import's report with it.
"""

import argparse
import csv
import sys
import time
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from services.registry.dukcapil.mapping import RegistryPerson, to_dukcapil
from services.registry.seed.population import Population, generate

COLUMNS = (
    "NIK",
    "NO_KK",
    "NAMA_LGKP",
    "TMPT_LHR",
    "TGL_LHR",
    "JENIS_KLMIN",
    "AGAMA",
    "STATUS_KAWIN",
    "STAT_HBKEL",
    "NAMA_LGKP_IBU",
    "NIK_IBU",
    "PDDK_AKH",
    "JENIS_PKRJN",
    "ALAMAT",
    "NO_RT",
    "NO_RW",
    "DUSUN",
    "NO_PROP",
    "NO_KAB",
    "NO_KEC",
    "NO_KEL",
    "TGL_MATI",
)
# The columns a family card shares: every member's row repeats them.
HOUSEHOLD_COLUMNS = ("NO_KK", "ALAMAT", "NO_RT", "NO_RW", "DUSUN", "NO_PROP", "NO_KAB")
HOUSEHOLD_COLUMNS += ("NO_KEC", "NO_KEL")
_PERSON_AVG = 3.64  # persons with a NIK per generated household, to size the run


def _labels(field_name: str, attribute: str, codes: range) -> dict[int, str]:
    """Code -> label as ``to_dukcapil`` writes it (the public mapping, no private table)."""
    base = RegistryPerson(
        nik=None,
        kk_number=None,
        full_name="X",
        birth_place=None,
        birth_date=date(2000, 1, 1),
        sex=1,
        religion=None,
        marital_status=None,
        relationship=None,
        education=None,
        occupation=None,
        mother_nik=None,
        mother_name=None,
        village_code="61.04.16.2007",
        rt=None,
        rw=None,
        dusun=None,
        address=None,
    )
    return {c: to_dukcapil(replace(base, **{attribute: c}))[field_name] for c in codes}


SEX = _labels("JENIS_KLMIN", "sex", range(1, 3))
RELIGION = _labels("AGAMA", "religion", range(1, 8))
MARITAL = _labels("STATUS_KAWIN", "marital_status", range(1, 5))
RELATIONSHIP = _labels("STAT_HBKEL", "relationship", range(1, 12))
EDUCATION = _labels("PDDK_AKH", "education", range(1, 11))
OCCUPATION = _labels("JENIS_PKRJN", "occupation", range(1, 90))


def _lookup(table: dict[int, str], codes: np.ndarray) -> list[str]:
    labels = np.array([""] + [table.get(i, "") for i in range(1, max(table) + 1)], dtype=object)
    return labels[codes.astype(np.int64)].tolist()


def _dmy(days: np.ndarray) -> list[str]:
    return [f"{s[8:10]}-{s[5:7]}-{s[0:4]}" for s in np.datetime_as_string(days, unit="D")]


@dataclass
class Extract:
    """Columns of equal length (one entry per row), all text as written to the CSV."""

    columns: dict[str, list[str]]
    as_of: date

    def __len__(self) -> int:
        return len(self.columns["NIK"])

    def row(self, i: int) -> dict[str, str]:
        return {c: self.columns[c][i] for c in COLUMNS}

    def append(self, row: dict[str, str]) -> None:
        for c in COLUMNS:
            self.columns[c].append(row.get(c, ""))

    def copy(self) -> "Extract":
        return Extract({c: list(v) for c, v in self.columns.items()}, self.as_of)


def from_population(pop: Population) -> Extract:
    """Every person with a NIK, in household order (head first)."""
    p, h = pop.persons, pop.households
    keep = np.array([n is not None for n in p.nik.tolist()], dtype=bool)
    hh = p.household_index[keep]
    village = np.array(h.village_code.tolist(), dtype=object)[hh]
    parts = [v.split(".") for v in village.tolist()]
    mother_nik = p.mother_nik[keep].tolist()
    columns = {
        "NIK": p.nik[keep].tolist(),
        "NO_KK": h.kk_number[hh].tolist(),
        "NAMA_LGKP": [s.upper() for s in p.full_name[keep].tolist()],
        "TMPT_LHR": [s.upper() for s in p.birth_place[keep].tolist()],
        "TGL_LHR": _dmy(p.birth_date[keep]),
        "JENIS_KLMIN": _lookup(SEX, p.sex[keep]),
        "AGAMA": _lookup(RELIGION, p.religion[keep]),
        "STATUS_KAWIN": _lookup(MARITAL, p.marital_status[keep]),
        "STAT_HBKEL": _lookup(RELATIONSHIP, p.relationship[keep]),
        "NAMA_LGKP_IBU": [s.upper() for s in p.mother_name[keep].tolist()],
        "NIK_IBU": [m or "" for m in mother_nik],
        "PDDK_AKH": _lookup(EDUCATION, p.education[keep]),
        "JENIS_PKRJN": _lookup(OCCUPATION, p.occupation[keep]),
        "ALAMAT": [s.upper() for s in h.address[hh].tolist()],
        "NO_RT": [str(v) for v in h.rt[hh].tolist()],
        "NO_RW": [str(v) for v in h.rw[hh].tolist()],
        "DUSUN": [(s or "").upper() for s in h.dusun[hh].tolist()],
        "NO_PROP": [str(int(x[0])) for x in parts],
        "NO_KAB": [str(int(x[1])) for x in parts],
        "NO_KEC": [str(int(x[2])) for x in parts],
        "NO_KEL": [str(int(x[3])) for x in parts],
        "TGL_MATI": [""] * int(keep.sum()),
    }
    return Extract(columns, pop.as_of)


def build_extract(
    regency: str, households: int, villages: list[str], seed: int, as_of: date
) -> tuple[Extract, Population]:
    pop = generate(regency, households, villages, seed, as_of=as_of)
    return from_population(pop), pop


@dataclass
class Expected:
    """What ``change_extract`` did, by NIK (KK for new families)."""

    births: list[str] = field(default_factory=list)
    newcomers: list[str] = field(default_factory=list)
    new_households: list[str] = field(default_factory=list)
    deaths: list[str] = field(default_factory=list)
    moves_within: list[str] = field(default_factory=list)
    moves_out: list[str] = field(default_factory=list)
    changed: dict[str, str] = field(default_factory=dict)  # NIK -> changed column

    def counts(self) -> dict[str, int]:
        return {
            "births": len(self.births),
            "newcomers": len(self.newcomers),
            "new_households": len(self.new_households),
            "deaths": len(self.deaths),
            "moves_within": len(self.moves_within),
            "moves_out": len(self.moves_out),
            "changed": len(self.changed),
        }


# Share of the changed people per kind (scenario 7 has births, deaths, moves; an
# extract also corrects attributes and brings in families from elsewhere).
SHARES = {
    "changed": 0.35,
    "moves_within": 0.20,
    "births": 0.15,
    "deaths": 0.10,
    "moves_out": 0.10,
    "newcomers": 0.10,
}


def _age_days(extract: Extract, as_of: date) -> np.ndarray:
    born = np.array(
        [f"{s[6:10]}-{s[3:5]}-{s[0:2]}" for s in extract.columns["TGL_LHR"]], dtype="datetime64[D]"
    )
    return (np.datetime64(as_of, "D") - born).astype(np.int64)


def _nik(district: str, born: date, sex: int, serial: int) -> str:
    day = born.day + (40 if sex == 2 else 0)
    return f"{district}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


def change_extract(extract: Extract, rate: float, seed: int) -> tuple[Extract, Expected]:
    """A copy with ``rate`` of its people (by count) born, arrived, died, moved or edited."""
    rng = np.random.default_rng([seed, 7])
    out = extract.copy()
    col = out.columns
    as_of = extract.as_of
    n = len(extract)
    total = max(len(SHARES), round(rate * n))
    want = {kind: max(1, round(share * total)) for kind, share in SHARES.items()}
    expected = Expected()
    taken_niks = set(col["NIK"])
    next_serial: dict[str, int] = {}

    def fresh_nik(district: str, born: date, sex: int) -> str:
        # Serials from 9999 down: the generator numbers from 0001 up, so they rarely meet.
        prefix = _nik(district, born, sex, 0)[:12]
        while True:
            serial = next_serial.get(prefix, 9999)
            next_serial[prefix] = serial - 1
            candidate = prefix + f"{serial:04d}"
            if candidate not in taken_niks:
                taken_niks.add(candidate)
                return candidate

    age = _age_days(extract, as_of)
    female = np.array([s == SEX[2] for s in col["JENIS_KLMIN"]])
    married = np.array([s == MARITAL[2] for s in col["STATUS_KAWIN"]])
    head_or_wife = np.array([s in (RELATIONSHIP[1], RELATIONSHIP[3]) for s in col["STAT_HBKEL"]])
    head = np.array([s == RELATIONSHIP[1] for s in col["STAT_HBKEL"]])
    mothers = np.flatnonzero(female & married & head_or_wife & (age > 18 * 365) & (age < 44 * 365))
    used: set[int] = set()

    def pick(pool: np.ndarray, k: int) -> list[int]:
        pool = np.array([i for i in rng.permutation(pool).tolist() if i not in used][:k])
        used.update(pool.tolist())
        return pool.tolist()

    def household_of(i: int) -> dict[str, str]:
        return {c: col[c][i] for c in HOUSEHOLD_COLUMNS}

    # Births: a baby on the mother's family card, with her NIK.
    for m in pick(mothers, want["births"]):
        born = as_of - timedelta(days=int(rng.integers(1, 60)))
        sex = int(rng.integers(1, 3))
        district = col["NIK"][m][:6]
        nik = fresh_nik(district, born, sex)
        out.append(
            {
                **household_of(m),
                "NIK": nik,
                "NAMA_LGKP": f"SINTETIS BAYI {nik[-4:]}",
                "TMPT_LHR": "KETAPANG",
                "TGL_LHR": born.strftime("%d-%m-%Y"),
                "JENIS_KLMIN": SEX[sex],
                "AGAMA": col["AGAMA"][m],
                "STATUS_KAWIN": MARITAL[1],
                "STAT_HBKEL": RELATIONSHIP[4],
                "NAMA_LGKP_IBU": col["NAMA_LGKP"][m],
                "NIK_IBU": col["NIK"][m],
                "PDDK_AKH": EDUCATION[1],
                "JENIS_PKRJN": OCCUPATION[1],
            }
        )
        expected.births.append(nik)

    # Newcomer families: a couple on a new KK number, in a village of the regency.
    anchors = rng.choice(np.flatnonzero(head), size=max(1, want["newcomers"] // 2))
    for k, a in enumerate(anchors.tolist()):
        district = col["NIK"][a][:6]
        issued = as_of - timedelta(days=int(rng.integers(1, 60)))
        kk = f"{district}{issued:%d%m%y}{9999 - k:04d}"
        place = {**household_of(a), "NO_KK": kk, "ALAMAT": f"JL. SINTETIS BARU NO. {k + 1}"}
        for sex, relationship in ((1, 1), (2, 3)):
            born = date(1990, 1, 1) + timedelta(days=int(rng.integers(0, 3000)))
            nik = fresh_nik(district, born, sex)
            out.append(
                {
                    **place,
                    "NIK": nik,
                    "NAMA_LGKP": f"SINTETIS PENDATANG {nik[-4:]}",
                    "TMPT_LHR": "PONTIANAK",
                    "TGL_LHR": born.strftime("%d-%m-%Y"),
                    "JENIS_KLMIN": SEX[sex],
                    "AGAMA": RELIGION[1],
                    "STATUS_KAWIN": MARITAL[2],
                    "STAT_HBKEL": RELATIONSHIP[relationship],
                    "NAMA_LGKP_IBU": "SINTETIS IBU PENDATANG",
                    "PDDK_AKH": EDUCATION[5],
                    "JENIS_PKRJN": OCCUPATION[15],
                }
            )
            expected.newcomers.append(nik)
        expected.new_households.append(kk)

    not_head = np.flatnonzero(~head)
    everyone = np.arange(n)
    for i in pick(everyone, want["deaths"]):
        died = as_of - timedelta(days=int(rng.integers(1, 60)))
        col["TGL_MATI"][i] = died.strftime("%d-%m-%Y")
        expected.deaths.append(col["NIK"][i])

    heads = np.flatnonzero(head)
    for i in pick(not_head, want["moves_within"]):
        target = int(rng.choice(heads))
        while col["NO_KK"][target] == col["NO_KK"][i]:
            target = int(rng.choice(heads))
        for c in HOUSEHOLD_COLUMNS:
            col[c][i] = col[c][target]
        col["STAT_HBKEL"][i] = RELATIONSHIP[9]
        expected.moves_within.append(col["NIK"][i])

    gone = set(pick(not_head, want["moves_out"]))
    expected.moves_out = [col["NIK"][i] for i in sorted(gone)]

    for i in pick(everyone, want["changed"]):
        column = ("NAMA_LGKP", "JENIS_PKRJN", "PDDK_AKH", "TMPT_LHR")[int(rng.integers(0, 4))]
        value = col[column][i]
        if column == "NAMA_LGKP":
            value = value + " PUTRA" if col["JENIS_KLMIN"][i] == SEX[1] else value + " PUTRI"
        elif column == "JENIS_PKRJN":
            value = OCCUPATION[88] if value != OCCUPATION[88] else OCCUPATION[9]
        elif column == "PDDK_AKH":
            value = EDUCATION[8] if value != EDUCATION[8] else EDUCATION[5]
        else:
            value = "SINGKAWANG" if value != "SINGKAWANG" else "PONTIANAK"
        col[column][i] = value
        expected.changed[col["NIK"][i]] = column

    if gone:
        keep = [i for i in range(len(out)) if i not in gone]
        out.columns = {c: [v[i] for i in keep] for c, v in col.items()}
    return out, expected


def write_csv(extract: Extract, path: Path, delimiter: str = ",") -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter=delimiter, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(zip(*(extract.columns[c] for c in COLUMNS), strict=True))


def regency_villages(regency: str) -> list[str]:
    from dukcapil_sim.app import regency_villages as villages_of
    from dukcapil_sim.app import region_names

    return villages_of(region_names(regency), regency)


def extract_for_persons(
    regency: str, persons: int, seed: int, as_of: date
) -> tuple[Extract, Population]:
    """At least ``persons`` rows: generate, and again larger if the estimate fell short."""
    villages = regency_villages(regency)
    households = max(1, round(persons / _PERSON_AVG))
    while True:
        extract, pop = build_extract(regency, households, villages, seed, as_of)
        if len(extract) >= persons:
            return extract, pop
        households = round(households * persons / len(extract)) + 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--regency", default="61.04")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 7, 1))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--changed-out", type=Path)
    parser.add_argument("--changed-rate", type=float, default=0.05)
    args = parser.parse_args()

    started = time.perf_counter()
    extract, _ = extract_for_persons(args.regency, args.persons, args.seed, args.as_of)
    write_csv(extract, args.out)
    print(
        f"{args.out}: {len(extract)} persons in {time.perf_counter() - started:.1f}s",
        file=sys.stderr,
    )
    if args.changed_out:
        changed, expected = change_extract(extract, args.changed_rate, args.seed)
        write_csv(changed, args.changed_out)
        print(
            f"{args.changed_out}: {len(changed)} persons, changes {expected.counts()}",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
