"""NIK verification on registration, against the simulator as a real HTTP peer.

The simulator serves the population ``kkb seed`` would load for the demo (61.04, the
demo household count, seed 1, today): the expectations come from generating that
population here, not from the code under test.
"""

import itertools
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from common.clock import today
from dukcapil_sim.app import regency_villages, region_names
from kkb.bootstrap import DEMO_HOUSEHOLDS
from kkb.stack import DEMO_REGENCY
from services.registry.seed.population import Population, generate
from tests.registry import factories

VILLAGE_OPERATOR = "village_operator"
_households = itertools.count(17, 7)  # population households, a different one per use


@pytest.fixture(scope="module")
def population() -> Population:
    names = region_names(DEMO_REGENCY)
    return generate(
        DEMO_REGENCY, DEMO_HOUSEHOLDS, regency_villages(names, DEMO_REGENCY), 1, as_of=today()
    )


def _member(pop: Population, i: int, members: list[int]) -> dict[str, Any]:
    p = pop.persons
    body: dict[str, Any] = {
        "full_name": p.full_name[i],
        "sex": int(p.sex[i]),
        "birth_date": p.birth_date[i].item().isoformat(),
        "birth_place": p.birth_place[i],
        "marital_status": int(p.marital_status[i]),
        "religion": int(p.religion[i]),
        "education": int(p.education[i]),
        "occupation": int(p.occupation[i]),
        "mother_name": p.mother_name[i],
        "relationship": int(p.relationship[i]),
    }
    if p.nik[i] is not None:
        body["nik"] = p.nik[i]
    mother = int(p.mother_index[i])
    if mother in members:
        body["mother_index"] = members.index(mother)
    return body


def household_body(pop: Population, h: int) -> dict[str, Any]:
    """Household ``h`` of the population as the registration API takes it."""
    hh = pop.households
    members = np.flatnonzero(pop.persons.household_index == h).tolist()
    return {
        "kk_number": hh.kk_number[h],
        "village_code": hh.village_code[h],
        "dusun": hh.dusun[h],
        "rw": str(int(hh.rw[h])),
        "rt": str(int(hh.rt[h])),
        "address": hh.address[h],
        "members": [_member(pop, i, members) for i in members],
    }


def register(
    client_for: Callable[..., httpx.Client],
    pop: Population,
    change: Callable[[dict[str, Any]], None] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Register the next population household (as its village's operator); the household
    answer and the registered head. Households someone registered already are skipped."""
    for h in _households:
        body = household_body(pop, h)
        if change is not None:
            change(body)
        client = client_for(VILLAGE_OPERATOR, body["village_code"])
        r = client.post("/v1/households", json=body)
        if r.status_code == 409:
            continue
        assert r.status_code == 201, r.text
        household = r.json()
        head = next(m for m in household["members"] if m["relationship"] == 1)
        return household, head
    raise AssertionError("unreachable")


def wait_for(
    client: httpx.Client, person_id: str, done: Callable[[dict], bool], timeout_s: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        r = client.get(f"/v1/persons/{person_id}/verification")
        assert r.status_code == 200, r.text
        body = r.json()
        if done(body):
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"verification still {body} after {timeout_s}s")
        time.sleep(0.5)


def settled(body: dict) -> bool:
    return body["status"] not in ("pending", "unverified")


def test_registered_person_is_verified_by_the_worker(client_for, population, sim):
    household, head = register(client_for, population)
    client = client_for(VILLAGE_OPERATOR, household["village_code"])
    body = wait_for(client, head["id"], settled)
    assert body["status"] == "verified", body
    assert body["differences"] == []
    assert body["source"] == "web_service"
    assert body["checked_at"] is not None
    assert body["label"]["id"] and body["label"]["en"]
    # Checking again on demand gives the same answer.
    again = client.post(f"/v1/persons/{head['id']}/verify")
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "verified"


def test_a_name_recorded_otherwise_differs(client_for, population, sim):
    def rename(body: dict[str, Any]) -> None:
        head = next(m for m in body["members"] if m["relationship"] == 1)
        head["full_name"] = "Sintetis Nama Lain Sekali"

    household, head = register(client_for, population, rename)
    client = client_for(VILLAGE_OPERATOR, household["village_code"])
    body = wait_for(client, head["id"], settled)
    assert body["status"] == "differs", body
    assert body["differences"] == ["full_name"]
    # The wife was registered as Dukcapil records her.
    wife = next((m for m in household["members"] if m["relationship"] == 3), None)
    if wife is not None and wife["nik"]:
        assert wait_for(client, wife["id"], settled)["status"] == "verified"


def test_a_nik_dukcapil_does_not_know_is_not_found(client_for, population, sim):
    known = {n for n in population.persons.nik.tolist() if n is not None}
    birth = date(1990, 3, 14)
    nik = next(
        n
        for n in (factories.nik(birth, 1, number=s) for s in range(9990, 9000, -1))
        if n not in known
    )
    body = factories.household(
        [factories.member("Sintetis Tak Dikenal", 1, birth, 1, marital_status=1)]
    )
    body["members"][0]["nik"] = nik
    client = client_for(VILLAGE_OPERATOR, body["village_code"])
    r = client.post("/v1/households", json=body)
    assert r.status_code == 201, r.text
    person = r.json()["members"][0]
    assert wait_for(client, person["id"], settled)["status"] == "not_found"


def test_down_service_leaves_unverified_then_the_worker_catches_up(client_for, population, sim):
    sim.post("/_sim/mode", json={"mode": "down"}).raise_for_status()
    household, head = register(client_for, population)  # registration still succeeds
    client = client_for(VILLAGE_OPERATOR, household["village_code"])
    body = wait_for(client, head["id"], lambda b: b["status"] == "unverified")
    assert body["next_attempt_at"] is not None
    assert body["code"] in ("dukcapil_server_error", "dukcapil_circuit_open")
    assert body["checked_at"] is None
    # Asked now while it is still down: still unverified, nothing lost.
    now = client.post(f"/v1/persons/{head['id']}/verify")
    assert now.status_code == 200, now.text
    assert now.json()["status"] == "unverified"

    sim.post("/_sim/reset").raise_for_status()
    body = wait_for(client, head["id"], settled, timeout_s=90)
    assert body["status"] == "verified", body
    assert body["source"] == "web_service"


def test_person_without_nik_and_other_regions(client_for, population, sim):
    body = factories.couple()
    body["members"].append(
        factories.member("Bayi Sintetis", 2, factories.years_ago(0, 40), 4, with_nik=False)
    )
    client = client_for(VILLAGE_OPERATOR, body["village_code"])
    r = client.post("/v1/households", json=body)
    assert r.status_code == 201, r.text
    baby = next(m for m in r.json()["members"] if m["relationship"] == 4)
    assert client.get(f"/v1/persons/{baby['id']}/verification").json()["status"] == "no_nik"
    refused = client.post(f"/v1/persons/{baby['id']}/verify")
    assert refused.status_code == 409
    assert refused.json()["code"] == "no_nik"

    outsider = client_for(VILLAGE_OPERATOR, factories.SUNGAI_PUTRI)
    assert outsider.get(f"/v1/persons/{baby['id']}/verification").status_code == 404
    assert outsider.post(f"/v1/persons/{baby['id']}/verify").status_code == 404
    analyst = client_for("analyst", "61.04")
    assert analyst.get(f"/v1/persons/{baby['id']}/verification").status_code == 403


def test_niks_stay_out_of_the_registry_log(stack, client_for, population, sim):
    household, head = register(client_for, population)
    client = client_for(VILLAGE_OPERATOR, household["village_code"])
    wait_for(client, head["id"], settled)
    log = Path(stack.log_dir or "") / "registry.log"
    if not log.exists():
        pytest.skip("the stack keeps no log files")
    text = log.read_text(errors="replace")
    assert head["nik"] not in text
    assert household["kk_number"] not in text
