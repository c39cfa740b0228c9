"""Dukcapil record <-> registry fields, with expected values written out by hand."""

from datetime import date, datetime

import pytest

from services.registry.dukcapil.mapping import (
    FieldDifference,
    MappingError,
    RegistryPerson,
    compare,
    from_dukcapil,
    normalise_text,
    parse_dukcapil_date,
    to_dukcapil,
    village_code_from_parts,
)

NIK = "6104164503900001"  # Delta Pawan, woman born 05-03-1990
KK = "6104161203150002"
MOTHER_NIK = "6104165107650003"


def dukcapil_record(**changes: object) -> dict[str, object]:
    record: dict[str, object] = {
        "NIK": NIK,
        "NO_KK": KK,
        "NAMA_LGKP": "SINTETIS KORAMI TELUBA",
        "TMPT_LHR": "KETAPANG",
        "TGL_LHR": "05-03-1990",
        "JENIS_KLMIN": "PEREMPUAN",
        "GOL_DARAH": "O",
        "AGAMA": "ISLAM",
        "STATUS_KAWIN": "KAWIN",
        "STAT_HBKEL": "ISTRI",
        "NAMA_LGKP_IBU": "SINTETIS MAWANIA",
        "NAMA_LGKP_AYAH": "SINTETIS BUDAN",
        "NIK_IBU": MOTHER_NIK,
        "NIK_AYAH": "",
        "PDDK_AKH": "SLTA/SEDERAJAT",
        "JENIS_PKRJN": "MENGURUS RUMAH TANGGA",
        "ALAMAT": "JL. SINTETIS KAHANG NO. 12",
        "NO_RT": 3,
        "NO_RW": 5,
        "DUSUN": "DUSUN II",
        "KODE_POS": "78813",
        "NO_PROP": 61,
        "PROP_NAME": "KALIMANTAN BARAT",
        "NO_KAB": 4,
        "KAB_NAME": "KETAPANG",
        "NO_KEC": 16,
        "KEC_NAME": "DELTA PAWAN",
        "NO_KEL": 2007,
        "KEL_NAME": "KALI NILAM",
        "EKTP_STATUS": "SUDAH REKAM",
        "LAST_UPDATED": "14-02-2026 09:30:00",
    }
    record.update(changes)
    return record


EXPECTED = RegistryPerson(
    nik=NIK,
    kk_number=KK,
    full_name="SINTETIS KORAMI TELUBA",
    birth_place="KETAPANG",
    birth_date=date(1990, 3, 5),
    sex=2,
    religion=1,
    marital_status=2,
    relationship=3,
    education=5,
    occupation=2,
    mother_nik=MOTHER_NIK,
    mother_name="SINTETIS MAWANIA",
    village_code="61.04.16.2007",
    rt=3,
    rw=5,
    dusun="DUSUN II",
    address="JL. SINTETIS KAHANG NO. 12",
)


def test_a_full_record_maps_to_registry_fields() -> None:
    mapped = from_dukcapil(dukcapil_record())
    assert mapped.person == EXPECTED
    assert mapped.last_updated == datetime(2026, 2, 14, 9, 30)
    assert mapped.issues == ()


@pytest.mark.parametrize(
    "text", ["05-03-1990", "05.03.1990", "5-3-1990", "05/03/1990", "1990-03-05"]
)
def test_birth_date_formats(text: str) -> None:
    assert parse_dukcapil_date(text) == date(1990, 3, 5)
    assert from_dukcapil(dukcapil_record(TGL_LHR=text)).person.birth_date == date(1990, 3, 5)


@pytest.mark.parametrize("text", ["31-02-1990", "1990", "", None, "05-03-90"])
def test_unreadable_birth_dates(text: str | None) -> None:
    assert parse_dukcapil_date(text) is None


def test_region_numbers_come_unpadded_or_padded_as_text_or_numbers() -> None:
    assert village_code_from_parts(61, 4, 16, 2007) == "61.04.16.2007"
    assert village_code_from_parts("61", "04", "016", "2007") == "61.04.16.2007"
    assert village_code_from_parts("61", "4", "16", "1001") == "61.04.16.1001"
    assert village_code_from_parts(61, 4, 16, 7) is None  # village part needs 1xxx-3xxx
    assert village_code_from_parts(61, None, 16, 2007) is None


def test_codes_are_read_from_numbers_and_label_variants() -> None:
    mapped = from_dukcapil(
        dukcapil_record(
            JENIS_KLMIN="Laki - laki",
            AGAMA="4",
            STATUS_KAWIN="KAWIN TERCATAT",
            STAT_HBKEL=1,
            PDDK_AKH="diploma i/ii",
            JENIS_PKRJN="BELUM / TIDAK BEKERJA",
        )
    ).person
    assert (mapped.sex, mapped.religion, mapped.marital_status) == (1, 4, 2)
    assert (mapped.relationship, mapped.education, mapped.occupation) == (1, 6, 1)


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("DIPLOMA I/II", 6),
        ("DIPLOMA III", 7),
        ("AKADEMI/DIPLOMA III/S. MUDA", 7),
        ("DIPLOMA IV/STRATA I", 8),
        ("SLTP", 4),
        ("TIDAK/BELUM SEKOLAH", 1),
        ("10", 10),
    ],
)
def test_education_labels(label: str, code: int) -> None:
    assert from_dukcapil(dukcapil_record(PDDK_AKH=label)).person.education == code


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("PETANI/PEKEBUN", 9),
        ("NELAYAN", 11),
        ("BURUH HARIAN LEPAS", 19),
        ("BIDAN", 73),
        ("WIRASWASTA", 88),
        ("LAINNYA", 89),
        ("Pegawai Negeri Sipil (PNS)", 5),
        ("ANGGOTA DPR RI", 48),
    ],
)
def test_occupation_labels(label: str, code: int) -> None:
    assert from_dukcapil(dukcapil_record(JENIS_PKRJN=label)).person.occupation == code


def test_unknown_optional_values_become_none_with_an_issue() -> None:
    mapped = from_dukcapil(
        dukcapil_record(JENIS_PKRJN="ASTRONOT", AGAMA="99", NIK_IBU="12345", NO_RT="A")
    )
    assert mapped.person.occupation is None and mapped.person.religion is None
    assert mapped.person.mother_nik is None and mapped.person.rt is None
    by_field = {issue.field: issue for issue in mapped.issues}
    assert by_field["JENIS_PKRJN"].code == "dukcapil_unknown_occupation"
    assert by_field["JENIS_PKRJN"].value == "ASTRONOT"
    assert set(by_field["JENIS_PKRJN"].message) == {"id", "en"}
    assert by_field["NIK_IBU"].value is None  # identifiers are never echoed
    assert set(by_field) == {"JENIS_PKRJN", "AGAMA", "NIK_IBU", "NO_RT"}


def test_empty_placeholders_are_missing_not_errors() -> None:
    mapped = from_dukcapil(
        dukcapil_record(NIK_IBU="0", DUSUN="-", NO_RT="000", TMPT_LHR="", LAST_UPDATED=None)
    )
    person = mapped.person
    assert (person.mother_nik, person.dusun, person.rt, person.birth_place) == (None,) * 4
    assert mapped.last_updated is None and mapped.issues == ()


def test_nik_as_json_number_is_accepted() -> None:
    assert from_dukcapil(dukcapil_record(NIK=int(NIK))).person.nik == NIK


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"NIK": "610416450390"}, "NIK"),
        ({"NIK": None}, "NIK"),
        ({"NAMA_LGKP": "  "}, "NAMA_LGKP"),
        ({"TGL_LHR": "32-01-1990"}, "TGL_LHR"),
        ({"JENIS_KLMIN": "X"}, "JENIS_KLMIN"),
        ({"NO_KEL": ""}, "NO_KEL"),
    ],
)
def test_identifying_fields_are_required(changes: dict[str, object], field: str) -> None:
    with pytest.raises(MappingError) as raised:
        from_dukcapil(dukcapil_record(**changes))
    assert raised.value.field == field
    assert raised.value.code.startswith("dukcapil_") and set(raised.value.message) == {"id", "en"}


def test_registry_person_to_dukcapil_record() -> None:
    person = RegistryPerson(
        **{**EXPECTED.__dict__, "full_name": "Sintetis Korami Teluba", "dusun": None, "rt": None}
    )
    names = {"61": "Kalimantan Barat", "61.04": "Ketapang", "61.04.16": "Delta Pawan"}
    record = to_dukcapil(
        person,
        region_names=names,
        last_updated=datetime(2026, 2, 14, 9, 30),
        extra={"GOL_DARAH": "A"},
    )
    assert record["NIK"] == NIK and record["NO_KK"] == KK
    assert record["NAMA_LGKP"] == "SINTETIS KORAMI TELUBA"
    assert record["TGL_LHR"] == "05-03-1990"
    assert record["JENIS_KLMIN"] == "PEREMPUAN"
    assert (record["AGAMA"], record["STATUS_KAWIN"], record["STAT_HBKEL"]) == (
        "ISLAM",
        "KAWIN",
        "ISTRI",
    )
    assert record["PDDK_AKH"] == "SLTA/SEDERAJAT"
    assert record["JENIS_PKRJN"] == "MENGURUS RUMAH TANGGA"
    assert (record["NO_PROP"], record["NO_KAB"], record["NO_KEC"], record["NO_KEL"]) == (
        61,
        4,
        16,
        2007,
    )
    assert (record["PROP_NAME"], record["KAB_NAME"], record["KEC_NAME"], record["KEL_NAME"]) == (
        "KALIMANTAN BARAT",
        "KETAPANG",
        "DELTA PAWAN",
        "",
    )
    assert (record["NO_RT"], record["NO_RW"], record["DUSUN"]) == (0, 5, "")
    assert record["LAST_UPDATED"] == "14-02-2026 09:30:00"
    assert record["GOL_DARAH"] == "A"


def test_round_trip_keeps_every_field() -> None:
    assert from_dukcapil(to_dukcapil(EXPECTED)).person == EXPECTED


def test_normalised_names() -> None:
    assert normalise_text("Sintetis  Korami,  Teluba ") == "SINTETIS KORAMI TELUBA"
    assert normalise_text("Muh. Ali") == normalise_text("MUH ALI")
    assert normalise_text("Ni'mah") == normalise_text("NIMAH")
    assert normalise_text("Siti-Aminah") == normalise_text("siti aminah")
    assert normalise_text("Korami") != normalise_text("Koramy")


def test_compare_ignores_case_spacing_and_punctuation_of_text() -> None:
    registry = RegistryPerson(
        **{
            **EXPECTED.__dict__,
            "full_name": "Sintetis Korami, Teluba",
            "address": "Jl. Sintetis Kahang No 12",
            "mother_name": "sintetis  mawania",
        }
    )
    assert compare(registry, dukcapil_record()) == []


def test_compare_lists_every_differing_field() -> None:
    registry = RegistryPerson(
        **{
            **EXPECTED.__dict__,
            "full_name": "Sintetis Korami Telubo",
            "birth_date": date(1990, 3, 6),
            "occupation": 9,
            "rt": None,
            "kk_number": None,
        }
    )
    differences = compare(registry, from_dukcapil(dukcapil_record()).person)
    assert [d.field for d in differences] == [
        "kk_number",
        "full_name",
        "birth_date",
        "occupation",
        "rt",
    ]
    assert differences[2] == FieldDifference("birth_date", date(1990, 3, 6), date(1990, 3, 5))
