import pytest

from services.registry.codelists import (
    ALL_CODE_LISTS,
    CONTRACEPTION_METHOD,
    EDUCATION,
    HOUSE_CONDITION,
    KAMPUNG_KB_MATURITY,
    MARITAL_STATUS,
    OCCUPATION,
    PREGNANCY_OUTCOME,
    PROGRAMME_AIM,
    RELATIONSHIP,
    RELIGION,
    RUMAH_DATAKU_LEVEL,
    SANITATION,
    SEX,
    WATER_SOURCE,
    WELFARE_DECILE,
    CodeEntry,
    CodeList,
)


def test_siak_list_sizes_match_the_siak_numbering() -> None:
    assert SEX.codes() == (1, 2)
    assert RELATIONSHIP.codes() == tuple(range(1, 12))
    assert RELIGION.codes() == tuple(range(1, 8))
    assert MARITAL_STATUS.codes() == (1, 2, 3, 4)
    assert EDUCATION.codes() == tuple(range(1, 11))
    assert OCCUPATION.codes() == tuple(range(1, 90))


@pytest.mark.parametrize(
    ("code_list", "code", "label"),
    [
        (RELATIONSHIP, 1, "KEPALA KELUARGA"),
        (RELATIONSHIP, 3, "ISTRI"),
        (RELATIONSHIP, 11, "LAINNYA"),
        (RELIGION, 3, "KATHOLIK"),
        (RELIGION, 6, "KHONGHUCU"),
        (MARITAL_STATUS, 4, "CERAI MATI"),
        (OCCUPATION, 1, "BELUM/TIDAK BEKERJA"),
        (OCCUPATION, 2, "MENGURUS RUMAH TANGGA"),
        (OCCUPATION, 3, "PELAJAR/MAHASISWA"),
        (OCCUPATION, 9, "PETANI/PEKEBUN"),
        (OCCUPATION, 15, "KARYAWAN SWASTA"),
        (OCCUPATION, 19, "BURUH HARIAN LEPAS"),
        (OCCUPATION, 73, "BIDAN"),
        (OCCUPATION, 88, "WIRASWASTA"),
        (OCCUPATION, 89, "LAINNYA"),
    ],
)
def test_numbers_carry_the_domain_labels(code_list: CodeList, code: int, label: str) -> None:
    assert code_list.label(code) == label


@pytest.mark.parametrize(
    ("code_list", "text", "code"),
    [
        (SEX, "LAKI-LAKI", 1),
        (SEX, " Laki - laki ", 1),
        (SEX, "PEREMPUAN", 2),
        (SEX, "female", 2),
        (MARITAL_STATUS, "KAWIN", 2),
        (MARITAL_STATUS, "belum kawin", 1),
        (MARITAL_STATUS, "Cerai  Hidup", 3),
        (RELATIONSHIP, "ANAK", 4),
        (RELATIONSHIP, "ORANG TUA", 7),
        (RELIGION, "ISLAM", 1),
        (OCCUPATION, "NELAYAN", 11),
        (OCCUPATION, "Petani / Pekebun", 9),
        (OCCUPATION, "PETANI/PERKEBUNAN", 9),
        (OCCUPATION, "midwife", 73),
        (EDUCATION, "DIPLOMA I/II", 6),
        (EDUCATION, "DIPLOMA III", 7),
        (EDUCATION, "SLTA", 5),
        (EDUCATION, "SLTA/SEDERAJAT", 5),
        (WATER_SOURCE, "Sumur tak terlindung", "unprotected_well"),
    ],
)
def test_lookup_by_label_ignores_case_and_spaces(code_list: CodeList, text: str, code) -> None:
    entry = code_list.by_label(text)
    assert entry is not None and entry.code == code


def test_unknown_labels_and_codes_give_none() -> None:
    assert SEX.by_label("X") is None
    assert SEX.by_label(None) is None
    assert SEX.get(3) is None
    assert SEX.get(None) is None
    assert SEX.get(True) is None
    assert RELATIONSHIP.get("ANAK") is None  # get is by code only
    with pytest.raises(KeyError):
        SEX.label(9)


def test_numeric_codes_accept_padded_text_and_text_codes_any_case() -> None:
    assert RELATIONSHIP.get("04").label_id == "ANAK"
    assert WATER_SOURCE.get("PIPED").code == "piped"
    assert 4 in RELATIONSHIP and "4" in RELATIONSHIP and 12 not in RELATIONSHIP


def test_lookup_takes_a_code_or_a_label() -> None:
    assert MARITAL_STATUS.lookup(2).label_id == "KAWIN"
    assert MARITAL_STATUS.lookup("2").label_id == "KAWIN"
    assert MARITAL_STATUS.lookup("KAWIN").code == 2
    assert MARITAL_STATUS.lookup("NIKAH SIRI") is None


def test_label_in_either_language() -> None:
    assert SEX.label(2, "en") == "Female"
    assert SEX.label(2, "id") == "PEREMPUAN"
    assert SEX.label(1) == "LAKI-LAKI"


def test_water_sources_safe_per_krs_rule_1() -> None:
    safe = {e.code for e in WATER_SOURCE if e.safe}
    unsafe = {e.code for e in WATER_SOURCE if not e.safe}
    assert safe == {
        "bottled_refill",
        "piped",
        "bore_well_pump",
        "protected_well",
        "protected_spring",
    }
    assert unsafe == {
        "unprotected_well",
        "unprotected_spring",
        "surface_water",
        "rainwater",
        "other",
    }


def test_sanitation_safe_only_with_gooseneck_and_septic_tank() -> None:
    assert {e.code for e in SANITATION if e.safe} == {"own_septic", "shared_septic"}
    assert SANITATION.get("no_latrine").safe is False
    assert SANITATION.get("latrine_no_septic").safe is False


def test_small_lists() -> None:
    assert HOUSE_CONDITION.codes() == ("fit", "unfit")
    assert WELFARE_DECILE.codes() == tuple(range(1, 11))
    assert KAMPUNG_KB_MATURITY.codes() == ("dasar", "berkembang", "mandiri", "berkelanjutan")
    assert RUMAH_DATAKU_LEVEL.codes() == ("sederhana", "lengkap", "paripurna")
    assert PROGRAMME_AIM.codes() == (1, 2, 3, 4)
    assert CONTRACEPTION_METHOD.get("mop").user_sex == 1
    assert CONTRACEPTION_METHOD.get("iud").user_sex == 2
    assert CONTRACEPTION_METHOD.get("traditional").user_sex is None
    delivery = {e.code: e.is_delivery for e in PREGNANCY_OUTCOME}
    assert delivery == {"live_birth": True, "stillbirth": True, "miscarriage": False}


def test_every_entry_has_both_labels() -> None:
    for code_list in ALL_CODE_LISTS:
        for entry in code_list:
            assert entry.label_id.strip() and entry.label_en.strip(), (code_list.name, entry)


def test_a_label_naming_two_codes_is_refused() -> None:
    with pytest.raises(ValueError, match="names two codes"):
        CodeList("x", [CodeEntry(1, "A", "a1"), CodeEntry(2, "B", "a 1")])
    with pytest.raises(ValueError, match="duplicate"):
        CodeList("x", [CodeEntry(1, "A", "A"), CodeEntry("01", "B", "B")])


def test_only_extendable_lists_extend() -> None:
    longer = OCCUPATION.extended(CodeEntry(90, "PEKERJAAN BARU", "New occupation"))
    assert len(longer) == 90 and len(OCCUPATION) == 89
    assert longer.by_label("pekerjaan baru").code == 90
    with pytest.raises(ValueError):
        SEX.extended(CodeEntry(3, "LAINNYA", "Other"))
