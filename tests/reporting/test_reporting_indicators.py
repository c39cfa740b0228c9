"""Every indicator against hand-computed numerators and denominators for the Bulungan
population (tests/reporting/bulungan.py: who was born when, measured how, delivered
what), consumed by the reporting service from the registry and interventions feeds."""

from services.reporting.periods import Period, PeriodKind
from services.reporting.regions import region_index
from tests.reporting.bulungan import D1, D2, PROVINCE, REGENCY
from tests.reporting.population import VILLAGE_A, VILLAGE_B, VILLAGE_C, pair, today, values


def test_growth_prevalence_across_levels_and_periods(bulungan, admin):
    codes = [
        "children_measured",
        "stunting_prevalence",
        "severe_stunting_prevalence",
        "wasting_prevalence",
        "severe_wasting_prevalence",
        "underweight_prevalence",
        "overweight_prevalence",
    ]
    expected = {
        # region: measured, (stunted, haz), (wasted, whz), (severe wasted, whz),
        #         (underweight, waz), (overweight, whz)
        VILLAGE_A: (4, (2, 3), (0, 3), (0, 3), (1, 4), (0, 3)),
        VILLAGE_B: (2, (0, 2), (1, 2), (1, 2), (0, 1), (0, 2)),
        VILLAGE_C: (2, (0, 2), (0, 2), (0, 2), (0, 2), (1, 2)),
        D1: (6, (2, 5), (1, 5), (1, 5), (1, 5), (0, 5)),
        D2: (2, (0, 2), (0, 2), (0, 2), (0, 2), (1, 2)),
        REGENCY: (8, (2, 7), (1, 7), (1, 7), (1, 7), (1, 7)),
        PROVINCE: (8, (2, 7), (1, 7), (1, 7), (1, 7), (1, 7)),
    }
    for region, (measured, stunted, wasted, severe, under, over) in expected.items():
        got = values(admin, codes, region, "2026-Q1")
        assert got["children_measured"]["value"] == measured, region
        assert pair(got["stunting_prevalence"]) == stunted, region
        assert pair(got["severe_stunting_prevalence"]) == (0, stunted[1]), region
        assert pair(got["wasting_prevalence"]) == wasted, region
        assert pair(got["severe_wasting_prevalence"]) == severe, region
        assert pair(got["underweight_prevalence"]) == under, region
        assert pair(got["overweight_prevalence"]) == over, region

    regency = values(admin, ["stunting_prevalence"], REGENCY, "2026-Q1")["stunting_prevalence"]
    assert regency["value"] == 28.6  # 2 of 7, half up
    # Previous quarter: only c1, stunted in November 2025.
    assert pair(regency["previous"]) == (1, 1)
    assert regency["previous"]["value"] == 100.0
    assert regency["change"]["absolute"] == -71.4
    assert regency["change"]["assessment"] == "better"

    # Months: January has a1 and a3 stunted, c2 normal; March a1 normal, b2 normal.
    january = values(admin, ["stunting_prevalence", "children_measured"], REGENCY, "2026-01")
    assert pair(january["stunting_prevalence"]) == (2, 3)
    assert january["children_measured"]["value"] == 3
    march = values(admin, ["stunting_prevalence", "children_measured"], REGENCY, "2026-03")
    assert pair(march["stunting_prevalence"]) == (0, 2)
    assert march["children_measured"]["value"] == 2
    # The February weighing month covers February's dates in its own series.
    weighing = values(admin, ["children_measured"], REGENCY, "2026-BPB-02")
    assert weighing["children_measured"]["value"] == 4  # a2, a4, b1, c1
    year = values(admin, ["stunting_prevalence"], REGENCY, "2026")["stunting_prevalence"]
    assert pair(year) == (2, 7)
    assert pair(year["previous"]) == (1, 1)


def test_measurement_coverage(bulungan, admin):
    quarter = {VILLAGE_A: (4, 4), VILLAGE_B: (2, 2), VILLAGE_C: (2, 3), D1: (6, 6), REGENCY: (8, 9)}
    for region, expected in quarter.items():
        got = values(admin, ["measurement_coverage"], region, "2026-Q1")
        assert pair(got["measurement_coverage"]) == expected, region
    # In March a3 is five: no longer in the denominator.
    march = values(admin, ["measurement_coverage"], REGENCY, "2026-03")
    assert pair(march["measurement_coverage"]) == (2, 8)


def test_breakdown_lists_child_regions(bulungan, admin):
    resp = admin.get(
        "/v1/reporting/values",
        params={
            "indicator": "stunting_prevalence",
            "region": D1,
            "period": "2026-Q1",
            "breakdown": "children",
        },
    )
    assert resp.status_code == 200, resp.text
    (item,) = resp.json()["indicators"]
    children = {c["region"]["code"]: c for c in item["children"]}
    # Every village of the district is listed, measured or not.
    assert len(children) == 4 + 5  # 65.01.01.1001-1004 and 2005-2009
    assert pair(children[VILLAGE_A]) == (2, 3)
    assert pair(children[VILLAGE_B]) == (0, 2)
    assert pair(children["65.01.01.2005"]) == (0, 0)
    assert children["65.01.01.2005"]["value"] is None


def test_breakdown_lists_every_village_of_the_regency(bulungan, admin):
    codes = ["stunting_prevalence", "coverage:S7", "convergence"]
    resp = admin.get(
        "/v1/reporting/values",
        params={
            "indicator": codes,
            "region": REGENCY,
            "period": "2026-Q1",
            "breakdown": "villages",
        },
    )
    assert resp.status_code == 200, resp.text
    villages = region_index().villages(REGENCY)
    for item in resp.json()["indicators"]:
        rows = {c["region"]["code"]: c for c in item["children"]}
        assert list(rows) == villages, item["code"]
        assert {r["region"]["level"] for r in rows.values()} == {"village"}
        for village in (VILLAGE_A, VILLAGE_B, VILLAGE_C):  # as asked village by village
            alone = values(admin, [item["code"]], village, "2026-Q1")[item["code"]]
            assert pair(rows[village]) == pair(alone), (item["code"], village)
            assert rows[village]["value"] == alone["value"]


def test_family_risk(bulungan, admin):
    this_year = str(today().year)
    expected = {VILLAGE_A: (1, 4), VILLAGE_B: (0, 2), VILLAGE_C: (1, 3), REGENCY: (2, 9)}
    for region, krs in expected.items():
        got = values(admin, ["krs_share", "krs_households"], region, this_year)
        assert pair(got["krs_share"]) == krs, region
        assert got["krs_households"]["value"] == krs[0], region
    assert values(admin, ["krs_share"], REGENCY, this_year)["krs_share"]["value"] == 22.2
    # Assessed when registered, after the first quarter: nothing to count then.
    early = values(admin, ["krs_share"], REGENCY, "2026-Q1")["krs_share"]
    assert pair(early) == (0, 0) and early["value"] is None


def test_coverage_and_convergence(bulungan, admin):
    got = values(admin, ["coverage:S7", "coverage:N15", "convergence"], REGENCY, "2026-Q1")
    assert pair(got["coverage:S7"]) == (3, 9)
    assert got["coverage:S7"]["value"] == 33.3
    # Aged 3-6 years in Q1: a3, c1 (three on 1 January) and c2; only c1 got N15.
    assert pair(got["coverage:N15"]) == (1, 3)
    # Nine children and nine households are targets of something (N7 and N14 for every
    # household); only c1 received all of his (S7 and N15).
    assert pair(got["convergence"]) == (1, 18)
    by_village = {
        VILLAGE_A: ((1, 4), (0, 8)),
        VILLAGE_B: ((1, 2), (0, 4)),
        VILLAGE_C: ((1, 3), (1, 6)),
        D1: ((2, 6), (0, 12)),
    }
    for region, (s7, whole) in by_village.items():
        got = values(admin, ["coverage:S7", "convergence"], region, "2026-Q1")
        assert pair(got["coverage:S7"]) == s7, region
        assert pair(got["convergence"]) == whole, region
    # N2: the two KRS families this year; a1's family was accompanied.
    n2 = values(admin, ["coverage:N2"], REGENCY, str(today().year))["coverage:N2"]
    assert pair(n2) == (1, 2)


def test_referrals_tpk_sites_lokus(bulungan, admin):
    quarter = Period.containing(today(), PeriodKind.QUARTER).code
    got = values(admin, ["referral_completion_rate", "referral_median_days"], REGENCY, quarter)
    assert pair(got["referral_completion_rate"]) == (1, 2)
    assert got["referral_median_days"]["value"] == 0.0
    assert got["referral_median_days"]["denominator"] == 1
    village_c = values(admin, ["referral_completion_rate"], VILLAGE_C, quarter)
    assert pair(village_c["referral_completion_rate"]) == (0, 1)

    tpk = values(admin, ["tpk_visit_coverage:baduta"], REGENCY, "2026-Q1")
    assert pair(tpk["tpk_visit_coverage:baduta"]) == (1, 5)  # a1, a4, b1, b2, c3; a4 visited
    village_a = values(admin, ["tpk_visit_coverage:baduta"], VILLAGE_A, "2026-Q1")
    assert pair(village_a["tpk_visit_coverage:baduta"]) == (1, 2)

    now = values(admin, ["kampung_kb_sites:berkembang", "kampung_kb_sites:dasar"], REGENCY, quarter)
    assert now["kampung_kb_sites:berkembang"]["value"] == 1
    assert now["kampung_kb_sites:dasar"]["value"] == 0
    before = values(admin, ["kampung_kb_sites:dasar"], REGENCY, "2025-Q4")
    assert before["kampung_kb_sites:dasar"]["value"] == 1
    lokus = values(admin, ["lokus_villages"], REGENCY, "2026")["lokus_villages"]
    assert lokus["value"] == 1  # B was designated, then revoked
    assert lokus["previous"]["value"] == 0
