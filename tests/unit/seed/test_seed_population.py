"""The synthetic population generator: determinism, valid numbers, plausible shape.

Expected values come from DOMAIN.md (NIK/KK layout, KRS criteria, 10-12% under five)
and are recomputed here from the generated columns, never by the generator's helpers.
"""

import csv
import re
from datetime import date, timedelta

import numpy as np
import pytest

from common.reference_data import reference_data_dir
from services.registry.seed.population import (
    COPY_COLUMNS,
    Population,
    PopulationParams,
    generate,
    to_copy_rows,
)

AS_OF = date(2026, 7, 1)
AS_OF_DAY = np.datetime64(AS_OF, "D")
UNSAFE_WATER = {"unprotected_well", "unprotected_spring", "surface_water", "rainwater", "other"}
UNSAFE_SANITATION = {"latrine_no_septic", "latrine_no_gooseneck", "no_latrine", "other"}
UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def ketapang_villages() -> list[str]:
    path = reference_data_dir() / "wilayah" / "wilayah.csv"
    with path.open(encoding="utf-8") as f:
        return [
            row["code"]
            for row in csv.DictReader(f)
            if row["level"] == "village" and row["code"].startswith("61.04.")
        ]


@pytest.fixture(scope="module")
def population(ketapang_villages: list[str]) -> Population:
    return generate("61.04", 20_000, ketapang_villages, seed=7, as_of=AS_OF)


def ages(pop: Population) -> np.ndarray:
    return (AS_OF_DAY - pop.persons.birth_date).astype(np.int64) / 365.25


def test_ketapang_has_262_villages(ketapang_villages: list[str]) -> None:
    assert len(ketapang_villages) == 262  # DOMAIN.md: 20 districts, 262 villages


def test_same_arguments_give_the_same_population(ketapang_villages: list[str]) -> None:
    a = generate("61.04", 1500, ketapang_villages, seed=3, as_of=AS_OF)
    b = generate("61.04", 1500, list(reversed(ketapang_villages)), seed=3, as_of=AS_OF)
    for part in ("households", "persons", "pregnancies", "planned_marriages", "contraception"):
        left, right = getattr(a, part), getattr(b, part)
        for name in left.__dataclass_fields__:
            assert np.array_equal(getattr(left, name), getattr(right, name)), (part, name)


def test_another_seed_gives_another_population(ketapang_villages: list[str]) -> None:
    a = generate("61.04", 500, ketapang_villages, seed=1, as_of=AS_OF)
    b = generate("61.04", 500, ketapang_villages, seed=2, as_of=AS_OF)
    assert set(a.persons.nik.tolist()) != set(b.persons.nik.tolist())


def test_nik_encodes_district_birth_date_and_sex(population: Population) -> None:
    p, h = population.persons, population.households
    checked = 0
    for nik, sex, born, hh in zip(
        p.nik.tolist(),
        p.sex.tolist(),
        p.birth_date.tolist(),
        p.household_index.tolist(),
        strict=True,
    ):
        if nik is None:
            continue
        assert len(nik) == 16 and nik.isdigit()
        assert nik[:6] == h.village_code[hh][:8].replace(".", "")
        day = int(nik[6:8])
        if sex == 2:
            assert 41 <= day <= 71
            day -= 40
        else:
            assert 1 <= day <= 31
        assert (day, int(nik[8:10]), int(nik[10:12])) == (born.day, born.month, born.year % 100)
        assert 1 <= int(nik[12:]) <= 9999
        checked += 1
    assert checked > 0.98 * len(p)


def test_nik_is_unique_and_serials_start_at_one(population: Population) -> None:
    niks = [n for n in population.persons.nik.tolist() if n is not None]
    assert len(niks) == len(set(niks))
    serials_by_stem: dict[str, list[int]] = {}
    for nik in niks:
        serials_by_stem.setdefault(nik[:12], []).append(int(nik[12:]))
    for serials in serials_by_stem.values():
        assert sorted(serials) == list(range(1, len(serials) + 1))


def test_only_some_infants_lack_a_nik(population: Population) -> None:
    age = ages(population)
    missing = np.array([n is None for n in population.persons.nik.tolist()])
    assert missing.sum() > 0
    assert (age[missing] < 1.0).all()
    assert missing.sum() < (age < 1.0).sum()


def test_kk_numbers_are_unique_and_well_formed(population: Population) -> None:
    h = population.households
    kks = h.kk_number.tolist()
    assert len(kks) == len(set(kks))
    for kk, village in zip(kks, h.village_code.tolist(), strict=True):
        assert len(kk) == 16 and kk.isdigit()
        assert kk[:6] == village[:8].replace(".", "")
        issued = date(2000 + int(kk[10:12]), int(kk[8:10]), int(kk[6:8]))
        assert AS_OF - timedelta(days=15 * 366) <= issued < AS_OF
        assert int(kk[12:]) >= 1


def test_under_fives_and_elderly_shares_follow_the_pyramid(population: Population) -> None:
    age = ages(population)
    assert 0.10 <= (age < 5).mean() <= 0.12
    assert 0.04 <= (age >= 65).mean() <= 0.09
    assert (age >= 0).all() and age.max() < 100
    # The pyramid narrows: more 0-9 year olds than 50-59, more 50-59 than 70-79.
    assert ((age >= 0) & (age < 10)).sum() > ((age >= 50) & (age < 60)).sum()
    assert ((age >= 50) & (age < 60)).sum() > ((age >= 70) & (age < 80)).sum()


def test_household_sizes(population: Population) -> None:
    p = population.persons
    sizes = np.bincount(p.household_index, minlength=len(population.households))
    assert 3.5 <= sizes.mean() <= 4.0
    assert sizes.min() >= 1 and sizes.max() <= 13
    heads = np.bincount(p.household_index[p.relationship == 1], minlength=len(sizes))
    assert (heads == 1).all()
    assert (p.household_id == population.households.id[p.household_index]).all()


def test_married_couples_have_plausible_age_gaps(population: Population) -> None:
    p = population.persons
    age = ages(population)
    wife = p.relationship == 3
    head_age = np.zeros(len(population.households))
    head_age[p.household_index[p.relationship == 1]] = age[p.relationship == 1]
    gaps = head_age[p.household_index[wife]] - age[wife]
    assert (p.sex[wife] == 2).all() and (p.marital_status[wife] == 2).all()
    assert (age[wife] >= 17).all()
    assert 2.0 <= np.median(gaps) <= 6.0
    assert ((gaps >= -4) & (gaps <= 16)).mean() > 0.97


def test_children_are_born_to_mothers_aged_17_to_45(population: Population) -> None:
    p = population.persons
    has = p.mother_index >= 0
    child_ids, mother = np.nonzero(has)[0], p.mother_index[has]
    at_birth = (p.birth_date[child_ids] - p.birth_date[mother]).astype(np.int64) / 365.25
    born_to_wife = np.isin(p.relationship[child_ids], (4, 6))
    assert (at_birth[born_to_wife] >= 17).all() and (at_birth[born_to_wife] <= 45).all()


def test_mother_links_point_into_the_household(population: Population) -> None:
    p = population.persons
    for i in np.nonzero(p.mother_index >= 0)[0][:5000]:
        m = p.mother_index[i]
        assert p.household_index[m] == p.household_index[i]
        assert p.sex[m] == 2
        assert p.mother_nik[i] == p.nik[m] and p.mother_nik[i] is not None
        assert p.mother_name[i] == p.full_name[m]
    no_mother = p.mother_index < 0
    assert all(n is None for n in p.mother_nik[no_mother].tolist())
    assert all(isinstance(n, str) and n for n in p.mother_name.tolist())


def test_three_generation_households_use_menantu_and_cucu(population: Population) -> None:
    p = population.persons
    grandchildren = np.nonzero(p.relationship == 6)[0]
    assert grandchildren.size > 0
    mothers = p.mother_index[grandchildren]
    assert np.isin(p.relationship[mothers], (4, 5)).all()
    assert (p.marital_status[mothers] == 2).all()


def test_names_are_plainly_synthetic(population: Population) -> None:
    for name in population.persons.full_name.tolist() + population.persons.mother_name.tolist():
        assert name.startswith("Sintetis ")
    assert all("SINTETIS" in a for a in population.households.address.tolist())


def test_villages_come_only_from_the_given_list(ketapang_villages: list[str]) -> None:
    chosen = ketapang_villages[10:15]
    pop = generate("61.04", 2000, chosen, seed=5, as_of=AS_OF)
    assert set(pop.households.village_code.tolist()) == set(chosen)


@pytest.mark.parametrize(
    "villages",
    [[], ["61.05.01.2001"], ["61.04.16.2007", "61.04.16"], ["61.04.16.5007"], ["6104162007"]],
)
def test_villages_outside_the_regency_are_refused(villages: list[str]) -> None:
    with pytest.raises(ValueError):
        generate("61.04", 10, villages, as_of=AS_OF)


def test_kelurahan_have_no_dusun(population: Population) -> None:
    h = population.households
    for village, dusun, rt, rw in zip(
        h.village_code.tolist(), h.dusun.tolist(), h.rt.tolist(), h.rw.tolist(), strict=True
    ):
        assert (dusun is None) == (village[9] == "1")
        assert rt >= 1 and rw >= 1


def test_condition_rates_follow_the_parameters(ketapang_villages: list[str]) -> None:
    params = PopulationParams(
        unsafe_water_rate=0.20, unsafe_sanitation_rate=0.30, unfit_house_rate=0.10
    )
    pop = generate("61.04", 20_000, ketapang_villages, seed=11, as_of=AS_OF, params=params)
    h = pop.households
    unsafe_water = np.isin(h.water_source, list(UNSAFE_WATER))
    unsafe_sanitation = np.isin(h.sanitation, list(UNSAFE_SANITATION))
    assert abs(unsafe_water.mean() - 0.20) < 0.015
    assert abs(unsafe_sanitation.mean() - 0.30) < 0.015
    assert abs((h.house_condition == "unfit").mean() - 0.10) < 0.015
    poor, rich = h.welfare_decile <= 2, h.welfare_decile >= 9
    assert unsafe_water[poor].mean() > 1.5 * unsafe_water[rich].mean()
    assert (h.extreme_poverty == (h.welfare_decile == 1)).all()
    assert set(np.unique(h.welfare_decile).tolist()) == set(range(1, 11))


def test_about_a_third_of_target_families_are_krs(population: Population) -> None:
    """KRS by the BKKBN 2024 criteria of DOMAIN.md, recomputed from the columns."""
    p, h = population.persons, population.households
    n = len(h)
    age = ages(population)
    hh = p.household_index
    wife = p.relationship == 3
    wife_age = np.full(n, np.nan)
    wife_age[hh[wife]] = age[wife]
    pus = np.zeros(n, dtype=bool)
    pus[hh[wife & (age >= 15) & (age < 50)]] = True
    pregnant = np.zeros(n, dtype=bool)
    pregnant[hh[population.pregnancies.person_index]] = True
    under_five = np.zeros(n, dtype=bool)
    under_five[hh[age < 5]] = True
    target = pus | pregnant | under_five

    child = p.relationship == 4
    close = np.zeros(n, dtype=bool)
    order = np.lexsort((p.birth_date, hh))
    ordered_child = child[order]
    child_hh = hh[order][ordered_child]
    child_born = p.birth_date[order][ordered_child].astype(np.int64)
    same_family = child_hh[1:] == child_hh[:-1]
    close[child_hh[1:][same_family & (np.diff(child_born) < 730)]] = True
    with np.errstate(invalid="ignore"):
        krs = (
            np.isin(h.water_source, list(UNSAFE_WATER))
            | np.isin(h.sanitation, list(UNSAFE_SANITATION))
            | (wife_age < 20)
            | ((wife_age >= 35) & (wife_age <= 40))
            | close
            | (np.bincount(hh[child], minlength=n) > 3)
        )
    assert 0.5 <= target.mean() <= 0.8
    assert 0.28 <= krs[target].mean() <= 0.40


def test_pregnancies_are_open_and_belong_to_married_women(population: Population) -> None:
    p, preg = population.persons, population.pregnancies
    assert len(preg) > 0.02 * len(population.households)
    women = preg.person_index
    assert (p.sex[women] == 2).all() and (p.marital_status[women] == 2).all()
    age = ages(population)[women]
    assert ((age >= 15) & (age < 50)).all()
    assert (preg.start_date <= AS_OF_DAY).all() and (preg.expected_delivery_date > AS_OF_DAY).all()
    assert ((preg.expected_delivery_date - preg.start_date).astype(int) == 280).all()
    assert (p.id[women] == preg.person_id).all()


def test_planned_marriages_are_for_unmarried_adults(population: Population) -> None:
    p, plan = population.persons, population.planned_marriages
    assert len(plan) > 0
    assert (p.marital_status[plan.person_index] == 1).all()
    age = ages(population)[plan.person_index]
    assert ((age >= 19) & (age < 35)).all()
    days_ahead = (plan.planned_date - AS_OF_DAY).astype(int)
    assert ((days_ahead >= 7) & (days_ahead <= 180)).all()


def test_contraception_is_used_by_pus_wives(population: Population) -> None:
    p, kb = population.persons, population.contraception
    assert 0.3 < len(kb) / (p.relationship == 3).sum() < 0.8
    users = kb.person_index
    age = ages(population)[users]
    assert (p.sex[users] == 2).all() and (p.marital_status[users] == 2).all()
    assert ((age >= 15) & (age < 50)).all()
    assert not set(users.tolist()) & set(population.pregnancies.person_index.tolist())
    assert (kb.start_date <= AS_OF_DAY).all()
    assert set(kb.method.tolist()) <= set(population.params.contraception_weights)


def test_codes_are_those_of_the_registry_code_lists(population: Population) -> None:
    from services.registry import codelists as cl

    h, p = population.households, population.persons
    assert set(h.water_source.tolist()) <= set(cl.WATER_SOURCE.codes())
    assert set(h.sanitation.tolist()) <= set(cl.SANITATION.codes())
    assert set(h.house_condition.tolist()) <= set(cl.HOUSE_CONDITION.codes())
    assert set(population.contraception.method.tolist()) <= set(cl.CONTRACEPTION_METHOD.codes())
    for column, code_list in (
        (p.relationship, cl.RELATIONSHIP),
        (p.marital_status, cl.MARITAL_STATUS),
        (p.religion, cl.RELIGION),
        (p.education, cl.EDUCATION),
        (p.occupation, cl.OCCUPATION),
        (p.sex, cl.SEX),
    ):
        assert set(column.tolist()) <= set(code_list.codes()), code_list.name


def test_ids_are_unique_uuid7(population: Population) -> None:
    ids = population.households.id.tolist() + population.persons.id.tolist()
    assert len(ids) == len(set(ids))
    assert all(UUID7.match(i) for i in ids)


def test_copy_rows_follow_the_documented_column_order(population: Population) -> None:
    rows = list(to_copy_rows(population, "person"))
    assert len(rows) == len(population.persons)
    first = dict(zip(COPY_COLUMNS["person"], rows[0], strict=True))
    assert first["id"] == population.persons.id[0]
    assert first["household_id"] == population.households.id[0]
    assert isinstance(first["birth_date"], date) and isinstance(first["sex"], int)
    household = next(to_copy_rows(population, "household"))
    assert len(household) == len(COPY_COLUMNS["household"])
    assert isinstance(household[COPY_COLUMNS["household"].index("extreme_poverty")], bool)
    for table in ("pregnancy", "planned_marriage", "contraception"):
        assert all(isinstance(r[0], str) for r in to_copy_rows(population, table))
    with pytest.raises(ValueError):
        to_copy_rows(population, "nope")
