"""A known population registered through the real registry and interventions APIs
(via the gateway), for the hand-computed expectations of the reporting tests.

The population (Kabupaten Bulungan, 65.01; all birth dates and visits fixed):

village A 65.01.01.1001 (district 65.01.01)
  a1 boy   2024-01-10  2026-01-15 stunted; 2026-03-10 normal (measured twice in Q1)
  a2 girl  2023-06-01  2026-02-10 stunted and underweight
  a3 boy   2021-02-15  2026-01-20 stunted; turns five on 2026-02-15
  a4 girl  2025-03-01  2026-02-01 length implausible: length and weight-for-length flagged
village B 65.01.01.1002 (district 65.01.01)
  b1 boy   2024-06-01  2026-02-20 normal
  b2 girl  2024-09-01  2026-03-01 oedema: severely wasted, left out of weight-for-age
village C 65.01.02.2001 (district 65.01.02)
  c1 boy   2023-01-01  2025-11-10 stunted; 2026-02-05 normal
  c2 girl  2022-05-05  2026-01-25 normal length, obese
  c3 boy   2025-06-01  registered, never measured

One household per child (husband, wife born 1996, the child), welfare decile 7. a1's
household draws unprotected well water, c3's has a latrine without septic tank: both
KRS (assessed when registered, today).

Interventions: S7 (growth monitoring) to a1 on 2026-02-01, b1 on 2026-02-20, c1 on
2026-02-05; N15 (early-childhood education) to c1 on 2026-02-06; N2 (TPK accompaniment)
to a1's household today. Latrine referrals today for the households of a1 (accepted,
started, completed) and c3 (left open). A TPK visit to a4 (baduta) on 2026-02-10.
A Kampung KB site in A, established 2025-01-01 at level dasar, berkembang from
2026-02-01. Lokus 2026: A, and B (revoked).
"""

from datetime import date
from typing import Any

from tests.reporting.population import (
    FEMALE,
    MALE,
    VILLAGE_A,
    VILLAGE_B,
    VILLAGE_C,
    feed_client,
    measure,
    position_of,
    register_family,
    today,
    wait_caught_up,
)

REGENCY = "65.01"
PROVINCE = "65"
D1 = "65.01.01"
D2 = "65.01.02"

CHILDREN = {
    "a1": (VILLAGE_A, MALE, date(2024, 1, 10)),
    "a2": (VILLAGE_A, FEMALE, date(2023, 6, 1)),
    "a3": (VILLAGE_A, MALE, date(2021, 2, 15)),
    "a4": (VILLAGE_A, FEMALE, date(2025, 3, 1)),
    "b1": (VILLAGE_B, MALE, date(2024, 6, 1)),
    "b2": (VILLAGE_B, FEMALE, date(2024, 9, 1)),
    "c1": (VILLAGE_C, MALE, date(2023, 1, 1)),
    "c2": (VILLAGE_C, FEMALE, date(2022, 5, 5)),
    "c3": (VILLAGE_C, MALE, date(2025, 6, 1)),
}
# child: [(visit, weight kg, height cm, oedema, intended classes len/wfl/wei)]
VISITS: dict[str, list[tuple[date, float, float, bool, tuple[str | None, ...]]]] = {
    "a1": [
        (date(2026, 1, 15), 11.0, 80.0, False, ("stunted", "normal", "normal")),
        (date(2026, 3, 10), 12.0, 86.0, False, ("normal", "normal", "normal")),
    ],
    "a2": [(date(2026, 2, 10), 10.0, 83.0, False, ("stunted", "normal", "underweight"))],
    "a3": [(date(2026, 1, 20), 15.5, 99.0, False, ("stunted", "normal", "normal"))],
    "a4": [(date(2026, 2, 1), 8.5, 50.0, False, (None, None, "normal"))],
    "b1": [(date(2026, 2, 20), 11.2, 84.0, False, ("normal", "normal", "normal"))],
    "b2": [(date(2026, 3, 1), 9.5, 79.0, True, ("normal", None, None))],
    "c1": [
        (date(2025, 11, 10), 12.5, 87.0, False, ("stunted", "normal", "normal")),
        (date(2026, 2, 5), 14.0, 96.0, False, ("normal", "normal", "normal")),
    ],
    "c2": [(date(2026, 1, 25), 21.0, 100.0, False, ("normal", "obese", "risk_of_overweight"))],
}


def _code(value: Any) -> str | None:
    return value["code"] if isinstance(value, dict) else value


def build_bulungan(admin, stack) -> dict[str, Any]:
    """Register the population, wait until reporting has it; ids by child key."""
    people: dict[str, str] = {}
    households: dict[str, str] = {}
    for key, (village, sex, birth) in CHILDREN.items():
        water = "unprotected_well" if key == "a1" else "piped"
        sanitation = "latrine_no_septic" if key == "c3" else "own_septic"
        family = register_family(
            admin, village, [(f"Anak {key}", sex, birth)], water=water, sanitation=sanitation
        )
        people[key] = family["by_name"][f"Anak {key}"]["id"]
        households[key] = family["id"]
    last_measurement = ""
    for key, visits in VISITS.items():
        for visit, weight, height, oedema, intended in visits:
            m = measure(admin, people[key], visit, weight=weight, height=height, oedema=oedema)
            got = (_code(m["class_len"]), _code(m["class_wfl"]), _code(m["class_wei"]))
            # The registry's classification is the input here: check the intent holds.
            if key == "a4":
                assert m["flen"] and m["fwfl"], m
            elif key == "b2":
                assert m["oedema"] and got[0] == "normal", m
            else:
                assert got == intended, (key, visit, m)
            last_measurement = m["id"]
    # After the fifth birthday the registry refuses the visit: a3 cannot count in March.
    late = admin.post(
        "/v1/growth/measurements",
        json={
            "person_id": people["a3"],
            "visit_date": "2026-03-05",
            "weight_kg": 16.0,
            "height_cm": 101.0,
        },
    )
    assert late.status_code == 422, late.text
    site = admin.post(
        "/v1/sites",
        json={
            "name": "Kampung KB Uji",
            "village_code": VILLAGE_A,
            "established_on": "2025-01-01",
            "maturity_level": "dasar",
        },
    )
    assert site.status_code == 201, site.text
    grown = admin.post(
        f"/v1/sites/{site.json()['id']}/maturity",
        json={"level": "berkembang", "effective_date": "2026-02-01"},
    )
    assert grown.status_code in (200, 201), grown.text
    for village in (VILLAGE_A, VILLAGE_B):
        lokus = admin.put(
            f"/v1/lokus/{village}/2026",
            json={"decree_number": f"SK-{village}", "decree_date": "2026-01-05"},
        )
        assert lokus.status_code in (200, 201), lokus.text
    revoked = admin.delete(f"/v1/lokus/{VILLAGE_B}/2026")
    assert revoked.status_code in (200, 204), revoked.text

    def deliver(subject: str, code: str, on: date) -> str:
        resp = admin.post(
            "/v1/interventions/deliveries",
            json={
                "subject_id": subject,
                "intervention_code": code,
                "delivered_on": on.isoformat(),
                "quantity": 1,
                "funding_source": "APBD",
            },
        )
        assert resp.status_code == 201, (code, resp.text)
        return resp.json()["id"]

    deliver(people["a1"], "S7", date(2026, 2, 1))
    deliver(people["b1"], "S7", date(2026, 2, 20))
    deliver(people["c1"], "S7", date(2026, 2, 5))
    deliver(people["c1"], "N15", date(2026, 2, 6))
    deliver(households["a1"], "N2", today())

    referrals = []
    for key in ("a1", "c3"):
        resp = admin.post(
            "/v1/interventions/referrals",
            json={"subject_id": households[key], "referral_type": "latrine"},
        )
        assert resp.status_code == 201, resp.text
        referrals.append(resp.json()["id"])
    for action in ("accept", "start", "complete"):
        moved = admin.post(f"/v1/interventions/referrals/{referrals[0]}/{action}")
        assert moved.status_code == 200, (action, moved.text)

    team = admin.post(
        "/v1/interventions/tpk/teams",
        json={
            "name": "TPK Uji",
            "region_code": D1,
            "members": [
                {"member_id": "bidan-uji", "name": "Bidan Uji", "role": "midwife"},
                {"member_id": "pkk-uji", "name": "Kader PKK Uji", "role": "pkk_cadre"},
                {"member_id": "kb-uji", "name": "Kader KB Uji", "role": "kb_cadre"},
            ],
            "villages": [VILLAGE_A, VILLAGE_B],
        },
    )
    assert team.status_code == 201, team.text
    visit = admin.post(
        "/v1/interventions/tpk/visits",
        json={
            "team_id": team.json()["id"],
            "subject_id": people["a4"],
            "target_group": "baduta",
            "visited_on": "2026-02-10",
            "answers": {
                "weighed_this_month": True,
                "breastfeeding": True,
                "complementary_feeding": True,
                "immunisation_up_to_date": True,
                "illness_or_danger_signs": False,
            },
        },
    )
    assert visit.status_code == 201, visit.text

    registry_mark = position_of(feed_client(stack, "registry"), last_measurement)
    interventions_mark = position_of(feed_client(stack, "interventions"), visit.json()["id"])
    wait_caught_up(admin, {"registry": registry_mark, "interventions": interventions_mark})
    return {"people": people, "households": households}
