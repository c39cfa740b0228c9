"""Kemendagri region codes: levels and name normalisation for search."""

import re
import unicodedata

LEVELS = ("province", "regency", "district", "village")
_CODE = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")


def is_valid_code(code: str) -> bool:
    return bool(_CODE.match(code))


def level_of(code: str) -> str:
    return LEVELS[code.count(".")]


def ancestors_of(code: str) -> list[str]:
    """``61.04.16.2007`` → ``["61", "61.04", "61.04.16"]``."""
    parts = code.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def normalise_name(name: str) -> str:
    """Case- and accent-insensitive search key; typographic apostrophes folded to ASCII."""
    folded = unicodedata.normalize("NFKD", name.replace("\u2019", "'").replace("\u2018", "'"))
    stripped = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def undotted(code: str) -> str:
    """The Dukcapil/NIK form: ``61.04.16`` → ``610416``."""
    return code.replace(".", "")
