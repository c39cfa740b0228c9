"""Sectors and the regional agencies (OPD) that deliver their part of the package."""

from dataclasses import dataclass

# One sector vocabulary for the whole project: the caller identity carries it too.
from common.identity import Sector

__all__ = ["SECTORS", "Sector", "SectorInfo", "parse_sector", "sector_label"]


@dataclass(frozen=True)
class SectorInfo:
    sector: Sector
    label: dict[str, str]
    agency: dict[str, str]
    agency_short: str


SECTORS: dict[Sector, SectorInfo] = {
    info.sector: info
    for info in (
        SectorInfo(
            Sector.HEALTH,
            {"id": "Kesehatan", "en": "Health"},
            {"id": "Dinas Kesehatan (dan Puskesmas)", "en": "Health Office (and Puskesmas)"},
            "Dinkes",
        ),
        SectorInfo(
            Sector.SOCIAL_AFFAIRS,
            {"id": "Sosial", "en": "Social affairs"},
            {"id": "Dinas Sosial", "en": "Social Affairs Office"},
            "Dinsos",
        ),
        SectorInfo(
            Sector.PUBLIC_WORKS,
            {"id": "Pekerjaan Umum dan Perumahan", "en": "Public works and housing"},
            {
                "id": "Dinas Pekerjaan Umum dan Penataan Ruang / Perumahan dan Kawasan Permukiman",
                "en": "Public Works and Spatial Planning / Housing and Settlements Office",
            },
            "Dinas PUPR/Perkim",
        ),
        SectorInfo(
            Sector.FAMILY_PLANNING,
            {"id": "Pengendalian Penduduk dan Keluarga Berencana", "en": "Family planning"},
            {
                "id": "Dinas Pengendalian Penduduk dan Keluarga Berencana",
                "en": "Population Control and Family Planning Office",
            },
            "DPPKB",
        ),
        SectorInfo(
            Sector.CIVIL_REGISTRY,
            {"id": "Kependudukan dan Pencatatan Sipil", "en": "Civil registry"},
            {
                "id": "Dinas Kependudukan dan Pencatatan Sipil",
                "en": "Population and Civil Registry Office",
            },
            "Disdukcapil",
        ),
        SectorInfo(
            Sector.RELIGIOUS_AFFAIRS,
            {"id": "Agama", "en": "Religious affairs"},
            {
                "id": "Kementerian Agama / Kantor Urusan Agama",
                "en": "Ministry of Religious Affairs / Marriage Office",
            },
            "Kemenag/KUA",
        ),
        SectorInfo(
            Sector.FOOD_SECURITY,
            {"id": "Ketahanan Pangan", "en": "Food security"},
            {"id": "Dinas Ketahanan Pangan", "en": "Food Security Office"},
            "DKP",
        ),
        SectorInfo(
            Sector.EDUCATION,
            {"id": "Pendidikan", "en": "Education"},
            {"id": "Dinas Pendidikan", "en": "Education Office"},
            "Disdik",
        ),
        SectorInfo(
            Sector.AGRICULTURE,
            {"id": "Pertanian", "en": "Agriculture"},
            {"id": "Dinas Pertanian", "en": "Agriculture Office"},
            "Distan",
        ),
        SectorInfo(
            Sector.FISHERIES,
            {"id": "Perikanan", "en": "Fisheries"},
            {"id": "Dinas Perikanan", "en": "Fisheries Office"},
            "Diskan",
        ),
    )
}


def parse_sector(value: str) -> Sector | None:
    """The sector for a code, or None when the code is not a known sector."""
    try:
        return Sector(value)
    except ValueError:
        return None


def sector_label(sector: Sector) -> dict[str, str]:
    return SECTORS[sector].label
