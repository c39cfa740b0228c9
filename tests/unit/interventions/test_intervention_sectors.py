from services.interventions.sectors import SECTORS, Sector, parse_sector, sector_label

EXPECTED = {
    "health": "Dinas Kesehatan",
    "social_affairs": "Dinas Sosial",
    "public_works": "PUPR",
    "family_planning": "DPPKB",
    "civil_registry": "Disdukcapil",
    "religious_affairs": "KUA",
    "food_security": "Ketahanan Pangan",
    "education": "Dinas Pendidikan",
    "agriculture": "Dinas Pertanian",
    "fisheries": "Dinas Perikanan",
}


def test_every_sector_has_bilingual_labels_and_its_agency():
    assert {s.value for s in SECTORS} == set(EXPECTED)
    for code, agency in EXPECTED.items():
        info = SECTORS[Sector(code)]
        assert info.label["id"] and info.label["en"]
        assert info.agency["id"] and info.agency["en"]
        assert agency in info.agency["id"] or agency in info.agency_short


def test_parse_sector():
    assert parse_sector("fisheries") == Sector.FISHERIES
    assert parse_sector("police") is None
    assert sector_label(Sector.HEALTH) == {"id": "Kesehatan", "en": "Health"}
