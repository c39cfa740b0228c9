"""Plainly synthetic person and place names for seeded populations.

Every person name starts with the marker word ``Sintetis`` and is built from a fixed
syllable inventory, so no generated name can be mistaken for a real person's. Pools are
derived from the syllable tables alone (no randomness), so the same seed gives the same
names on every machine.
"""

import zlib
from functools import lru_cache

import numpy as np

MARKER = "Sintetis"

_ONSETS = ("b", "d", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "w", "y")
_VOWELS = ("a", "i", "u", "e", "o")
_FEMALE_ENDINGS = ("nia", "ya", "sa", "ti", "wati", "ra", "na", "lia")
_MALE_ENDINGS = ("dan", "mon", "rok", "tus", "kar", "bin", "dul", "gar")
_PLACE_PREFIXES = ("Nanga", "Sungai", "Teluk", "Tanjung", "Kuala", "Batu", "Padang", "Rantau")

# Birth places outside the regency: real cities are not personal data.
OTHER_BIRTH_PLACES = (
    "PONTIANAK",
    "SINGKAWANG",
    "JAKARTA",
    "SURABAYA",
    "SEMARANG",
    "BANDUNG",
    "YOGYAKARTA",
    "MAKASSAR",
)


def _words(endings: tuple[str, ...]) -> list[str]:
    short = [o + v + e for o in _ONSETS for v in _VOWELS for e in endings]
    long = [
        o1 + v1 + o2 + v2 + e
        for o1 in _ONSETS
        for v1 in _VOWELS
        for o2 in _ONSETS
        for v2 in _VOWELS
        for e in endings
    ]
    return [w.capitalize() for w in short + long]


@lru_cache(maxsize=2)
def given_name_pool(sex: int) -> np.ndarray:
    """All synthetic given names for sex 1 (male) or 2 (female), as an object array."""
    endings = _MALE_ENDINGS if sex == 1 else _FEMALE_ENDINGS
    return np.array(_words(endings), dtype=object)


def full_names(rng: np.random.Generator, sex: np.ndarray) -> np.ndarray:
    """One ``Sintetis <Given> [<Second>]`` name per element of ``sex`` (1/2)."""
    n = sex.shape[0]
    male, female = given_name_pool(1), given_name_pool(2)
    first_idx = rng.integers(0, len(male), n)
    second_idx = rng.integers(0, len(male), n)
    has_second = rng.random(n) < 0.6
    is_male = sex == 1
    first = np.where(is_male, male[first_idx], female[first_idx % len(female)])
    second = np.where(is_male, male[second_idx], female[second_idx % len(female)])
    spacer = np.where(has_second, " ", "").astype(object)
    second = np.where(has_second, second, "").astype(object)
    return (MARKER + " ") + first + spacer + second


def place_name(code: str) -> str:
    """A stable synthetic town name for a region code (e.g. a district's birth place)."""
    h = zlib.crc32(code.encode())
    prefix = _PLACE_PREFIXES[h % len(_PLACE_PREFIXES)]
    h //= len(_PLACE_PREFIXES)
    word = ""
    for _ in range(3):
        word += _ONSETS[h % len(_ONSETS)] + _VOWELS[(h // 15) % len(_VOWELS)]
        h //= 75
    return f"{prefix} {word.capitalize()}".upper()


def street_pool() -> np.ndarray:
    """Synthetic street names (``JL. SINTETIS <WORD>``), upper case like Dukcapil addresses."""
    words = [
        o + v + o2 + v2 + "ng"
        for o in _ONSETS
        for v in _VOWELS
        for o2 in _ONSETS[:6]
        for v2 in _VOWELS[:2]
    ]
    return np.array([f"JL. {MARKER.upper()} {w.upper()}" for w in words], dtype=object)
