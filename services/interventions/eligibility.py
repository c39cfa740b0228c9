"""Declarative eligibility rules for interventions, evaluated against a subject projection.

A rule is plain JSON (stored with each catalogue version), a tree of nodes
``{"op": ..., ...}``:

- ``all`` / ``any`` with ``rules: [...]``; ``not`` with ``rule: {...}``
- ``subject_kind`` ``kind``: person | household
- ``sex`` ``sex``: F | M
- ``in_group`` ``group``: a target group held (``target_groups`` intervals, ends inclusive,
  ``end`` null while open); for a household, the groups its members hold
- ``age`` ``unit``: months | years, ``min`` / ``max``: completed units, inclusive
- ``krs``: the household is KRS; ``krs_criterion`` ``criterion``: that KRS criterion is met
- ``growth_class`` ``index``: len | wei | wfl | bmi, ``classes``: latest classification is one of
- ``measure`` ``field`` (see MEASURE_FIELDS) with one of ``lt``, ``lte``, ``gt``, ``gte``
- ``welfare_decile`` ``min`` / ``max`` (DTSEN decile, inclusive)
- ``flag`` ``field`` (see FLAG_FIELDS), ``value``: true | false (default true)

Evaluation is three-valued (Kleene) and pointwise over the days of the period, so
"aged 6–23 months and pregnant" means both at the same time. Missing data makes a node
unknown; an unknown result is not eligible but reports the missing fields.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta

Text = dict[str, str]
Rule = dict[str, Any]

TARGET_GROUPS: dict[str, Text] = {
    "catin": {"id": "calon pengantin (catin)", "en": "bride or groom to be (catin)"},
    "pus": {"id": "pasangan usia subur (PUS)", "en": "couple of reproductive age (PUS)"},
    "ibu_hamil": {"id": "ibu hamil", "en": "pregnant woman"},
    "ibu_pasca_persalinan": {"id": "ibu pasca persalinan", "en": "postpartum mother"},
    "baduta": {"id": "baduta (0–23 bulan)", "en": "child under two (0–23 months)"},
    "balita": {"id": "balita (0–59 bulan)", "en": "child under five (0–59 months)"},
    "remaja_putri": {"id": "remaja putri (10–19 tahun)", "en": "adolescent girl (10–19 years)"},
    "keluarga_sasaran": {"id": "keluarga sasaran", "en": "target family"},
    "krs": {"id": "keluarga berisiko stunting (KRS)", "en": "family at risk of stunting (KRS)"},
}

KRS_CRITERIA: dict[str, Text] = {
    "unsafe_water": {"id": "sumber air minum tidak layak", "en": "unsafe drinking water"},
    "unsafe_sanitation": {"id": "sanitasi tidak layak", "en": "unsafe sanitation"},
    "too_young": {"id": "istri terlalu muda", "en": "wife too young"},
    "too_old": {"id": "istri terlalu tua", "en": "wife too old"},
    "too_close": {"id": "jarak kelahiran terlalu dekat", "en": "births too close"},
    "too_many": {"id": "anak terlalu banyak", "en": "too many children"},
}

# Indicator names and class codes as the registry's growth classification uses them.
GROWTH_INDICES: dict[str, Text] = {
    "len": {"id": "PB/U atau TB/U", "en": "length/height-for-age"},
    "wei": {"id": "BB/U", "en": "weight-for-age"},
    "wfl": {"id": "BB/PB atau BB/TB", "en": "weight-for-length/height"},
    "bmi": {"id": "IMT/U", "en": "BMI-for-age"},
}

_WASTING_CLASSES: dict[str, Text] = {
    "severely_wasted": {"id": "gizi buruk", "en": "severely wasted"},
    "wasted": {"id": "gizi kurang", "en": "wasted"},
    "normal": {"id": "gizi baik", "en": "normal"},
    "possible_risk_of_overweight": {
        "id": "berisiko gizi lebih",
        "en": "possible risk of overweight",
    },
    "overweight": {"id": "gizi lebih", "en": "overweight"},
    "obese": {"id": "obesitas", "en": "obese"},
}

GROWTH_CLASSES: dict[str, dict[str, Text]] = {
    "len": {
        "severely_stunted": {"id": "sangat pendek", "en": "severely stunted"},
        "stunted": {"id": "pendek", "en": "stunted"},
        "normal": {"id": "normal", "en": "normal"},
        "tall": {"id": "tinggi", "en": "tall"},
    },
    "wei": {
        "severely_underweight": {"id": "berat badan sangat kurang", "en": "severely underweight"},
        "underweight": {"id": "berat badan kurang", "en": "underweight"},
        "normal": {"id": "berat badan normal", "en": "normal weight"},
        "risk_of_overweight": {"id": "risiko berat badan lebih", "en": "risk of overweight"},
    },
    "wfl": _WASTING_CLASSES,
    "bmi": _WASTING_CLASSES,
}

MEASURE_FIELDS: dict[str, tuple[Text, str]] = {
    "growth.muac_cm": ({"id": "LiLA", "en": "MUAC"}, "cm"),
    "growth.hb_g_dl": ({"id": "Hb", "en": "Hb"}, "g/dL"),
}

# field -> (text when the flag equals True, text when it equals False)
FLAG_FIELDS: dict[str, tuple[Text, Text]] = {
    "has_birth_certificate": (
        {"id": "memiliki akta kelahiran", "en": "has a birth certificate"},
        {"id": "belum memiliki akta kelahiran", "en": "has no birth certificate"},
    ),
    "has_nik": (
        {"id": "memiliki NIK", "en": "has a NIK"},
        {"id": "belum memiliki NIK", "en": "has no NIK"},
    ),
    "growth.oedema": (
        {"id": "mengalami edema", "en": "has oedema"},
        {"id": "tidak mengalami edema", "en": "has no oedema"},
    ),
}

COMPARATORS: dict[str, tuple[str, Callable[[float, float], bool]]] = {
    "lt": ("<", lambda a, b: a < b),
    "lte": ("≤", lambda a, b: a <= b),
    "gt": (">", lambda a, b: a > b),
    "gte": ("≥", lambda a, b: a >= b),
}

NOT_APPLICABLE_CODE = "intervention_not_applicable"


# --- rule builders (used by the catalogue seed and tests) -----------------------------


def all_of(*rules: Rule) -> Rule:
    return {"op": "all", "rules": list(rules)}


def any_of(*rules: Rule) -> Rule:
    return {"op": "any", "rules": list(rules)}


def not_(rule: Rule) -> Rule:
    return {"op": "not", "rule": rule}


def person() -> Rule:
    return {"op": "subject_kind", "kind": "person"}


def household() -> Rule:
    return {"op": "subject_kind", "kind": "household"}


def female() -> Rule:
    return {"op": "sex", "sex": "F"}


def in_group(group: str) -> Rule:
    return {"op": "in_group", "group": group}


def age_months(min_: int | None = None, max_: int | None = None) -> Rule:
    return {"op": "age", "unit": "months", "min": min_, "max": max_}


def age_years(min_: int | None = None, max_: int | None = None) -> Rule:
    return {"op": "age", "unit": "years", "min": min_, "max": max_}


def krs() -> Rule:
    return {"op": "krs"}


def krs_criterion(criterion: str) -> Rule:
    return {"op": "krs_criterion", "criterion": criterion}


def growth_class(index: str, *classes: str) -> Rule:
    return {"op": "growth_class", "index": index, "classes": list(classes)}


def measure(field_path: str, **comparison: float) -> Rule:
    return {"op": "measure", "field": field_path, **comparison}


def welfare_decile(min_: int | None = None, max_: int | None = None) -> Rule:
    return {"op": "welfare_decile", "min": min_, "max": max_}


def flag(field_path: str, value: bool = True) -> Rule:
    return {"op": "flag", "field": field_path, "value": value}


# --- rule validation -------------------------------------------------------------------


@dataclass(frozen=True)
class RuleIssue:
    path: str
    message: Text


def _issue(path: str, id_: str, en: str) -> RuleIssue:
    return RuleIssue(path, {"id": id_, "en": en})


def _check_bounds(rule: Mapping[str, Any], path: str, lo: int | None = None) -> list[RuleIssue]:
    issues: list[RuleIssue] = []
    bounds = [rule.get("min"), rule.get("max")]
    for key, value in zip(("min", "max"), bounds, strict=True):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            issues.append(_issue(f"{path}.{key}", "harus bilangan bulat", "must be an integer"))
        elif value is not None and lo is not None and value < lo:
            issues.append(_issue(f"{path}.{key}", f"minimal {lo}", f"must be at least {lo}"))
    if all(isinstance(v, int) for v in bounds) and bounds[0] > bounds[1]:  # type: ignore[operator]
        issues.append(_issue(path, "min melebihi max", "min is greater than max"))
    if bounds == [None, None]:
        issues.append(_issue(path, "min atau max wajib diisi", "min or max is required"))
    return issues


def validate_rule(rule: Any, path: str = "$") -> list[RuleIssue]:
    """Every structural problem of a rule tree; an empty list means the rule is usable."""
    if not isinstance(rule, Mapping):
        return [_issue(path, "aturan harus berupa objek", "a rule must be an object")]
    op = rule.get("op")
    if op in ("all", "any"):
        children = rule.get("rules")
        if not isinstance(children, list) or not children:
            return [_issue(f"{path}.rules", "daftar aturan kosong", "needs a non-empty list")]
        return [i for n, c in enumerate(children) for i in validate_rule(c, f"{path}.rules[{n}]")]
    if op == "not":
        return validate_rule(rule.get("rule"), f"{path}.rule")
    if op == "subject_kind":
        if rule.get("kind") not in ("person", "household"):
            return [_issue(f"{path}.kind", "harus person/household", "must be person/household")]
        return []
    if op == "sex":
        if rule.get("sex") not in ("F", "M"):
            return [_issue(f"{path}.sex", "harus F atau M", "must be F or M")]
        return []
    if op == "in_group":
        if rule.get("group") not in TARGET_GROUPS:
            return [_issue(f"{path}.group", "kelompok sasaran tidak dikenal", "unknown group")]
        return []
    if op == "age":
        issues = _check_bounds(rule, path, lo=0)
        if rule.get("unit") not in ("months", "years"):
            issues.append(_issue(f"{path}.unit", "harus months/years", "must be months/years"))
        return issues
    if op == "krs":
        return []
    if op == "krs_criterion":
        if rule.get("criterion") not in KRS_CRITERIA:
            return [_issue(f"{path}.criterion", "kriteria KRS tidak dikenal", "unknown criterion")]
        return []
    if op == "growth_class":
        index = rule.get("index")
        if index not in GROWTH_CLASSES:
            return [_issue(f"{path}.index", "harus len/wei/wfl/bmi", "must be len/wei/wfl/bmi")]
        classes = rule.get("classes")
        if (
            not isinstance(classes, list)
            or not classes
            or any(c not in GROWTH_CLASSES[index] for c in classes)
        ):
            return [_issue(f"{path}.classes", "kelas tidak dikenal", "unknown or empty classes")]
        return []
    if op == "measure":
        issues = []
        if rule.get("field") not in MEASURE_FIELDS:
            issues.append(_issue(f"{path}.field", "ukuran tidak dikenal", "unknown measure"))
        given = [k for k in COMPARATORS if k in rule]
        if len(given) != 1:
            issues.append(
                _issue(path, "perlu tepat satu lt/lte/gt/gte", "needs exactly one lt/lte/gt/gte")
            )
        elif not isinstance(rule[given[0]], int | float) or isinstance(rule[given[0]], bool):
            issues.append(_issue(f"{path}.{given[0]}", "harus angka", "must be a number"))
        return issues
    if op == "welfare_decile":
        issues = _check_bounds(rule, path, lo=1)
        issues += [
            _issue(f"{path}.{k}", "desil 1–10", "decile is 1–10")
            for k in ("min", "max")
            if isinstance(rule.get(k), int) and rule[k] > 10
        ]
        return issues
    if op == "flag":
        issues = []
        if rule.get("field") not in FLAG_FIELDS:
            issues.append(_issue(f"{path}.field", "isian tidak dikenal", "unknown flag field"))
        if not isinstance(rule.get("value", True), bool):
            issues.append(_issue(f"{path}.value", "harus true/false", "must be true/false"))
        return issues
    return [_issue(f"{path}.op", f"operasi tidak dikenal: {op}", f"unknown op: {op}")]


# --- day sets: which days of the period a condition holds ------------------------------


@dataclass(frozen=True)
class _Days:
    """Sorted, disjoint half-open spans of date ordinals."""

    spans: tuple[tuple[int, int], ...] = ()

    @staticmethod
    def between(start: int, stop: int) -> "_Days":
        return _Days(((start, stop),)) if start < stop else _Days()

    def __bool__(self) -> bool:
        return bool(self.spans)

    def __or__(self, other: "_Days") -> "_Days":
        merged: list[tuple[int, int]] = []
        for a, b in sorted(self.spans + other.spans):
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        return _Days(tuple(merged))

    def __and__(self, other: "_Days") -> "_Days":
        out = []
        for a, b in self.spans:
            for c, d in other.spans:
                lo, hi = max(a, c), min(b, d)
                if lo < hi:
                    out.append((lo, hi))
        return _Days(tuple(sorted(out)))

    def __sub__(self, other: "_Days") -> "_Days":
        out = list(self.spans)
        for c, d in other.spans:
            nxt = []
            for a, b in out:
                nxt += [(a, min(b, c))] if a < min(b, c) else []
                nxt += [(max(a, d), b)] if max(a, d) < b else []
            out = nxt
        return _Days(tuple(out))

    def periods(self) -> list[tuple[date, date]]:
        return [(date.fromordinal(a), date.fromordinal(b - 1)) for a, b in self.spans]


# --- evaluation ------------------------------------------------------------------------


@dataclass
class _Node:
    op: str
    desc: Text
    true: _Days
    unknown: _Days
    actual: Text | None = None
    missing: tuple[str, ...] = ()
    children: tuple["_Node", ...] = ()


@dataclass
class EligibilityResult:
    eligible: bool
    reasons_id: list[str]
    reasons_en: list[str]
    missing_data: list[str]
    eligible_periods: list[tuple[date, date]] = field(default_factory=list)

    @property
    def undetermined(self) -> bool:
        """Not eligible only because data is missing."""
        return not self.eligible and bool(self.missing_data) and not self.reasons_id


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _get(subject: Mapping[str, Any], path: str) -> Any:
    value: Any = subject
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _num(value: float, lang: str) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if lang == "id" else text


def _range_text(lo: int | None, hi: int | None, unit: Text) -> Text:
    if lo is not None and hi is not None:
        return {k: f"{lo}–{hi} {unit[k]}" for k in ("id", "en")}
    if lo is not None:
        return {"id": f"≥ {lo} {unit['id']}", "en": f"≥ {lo} {unit['en']}"}
    return {"id": f"≤ {hi} {unit['id']}", "en": f"≤ {hi} {unit['en']}"}


def _join(texts: list[Text], id_sep: str, en_sep: str) -> Text:
    return {"id": id_sep.join(t["id"] for t in texts), "en": en_sep.join(t["en"] for t in texts)}


# SIAK codes 1/2 (as the registry feed sends them), Dukcapil labels, form letters P/L
_SEX = {
    **dict.fromkeys(("2", "F", "P", "PEREMPUAN", "FEMALE"), "F"),
    **dict.fromkeys(("1", "M", "L", "LAKI-LAKI", "MALE"), "M"),
}
_SEX_TEXT = {"F": {"id": "perempuan", "en": "female"}, "M": {"id": "laki-laki", "en": "male"}}
_YES_NO = {True: {"id": "ya", "en": "yes"}, False: {"id": "tidak", "en": "no"}}


class _Evaluator:
    def __init__(self, subject: Mapping[str, Any], start: date, end: date) -> None:
        self.subject = subject
        self.start, self.end = start, end
        self.period = _Days.between(start.toordinal(), end.toordinal() + 1)

    def constant(
        self, op: str, desc: Text, holds: bool | None, actual: Text | None, path: str
    ) -> _Node:
        if holds is None:
            return _Node(op, desc, _Days(), self.period, actual, (path,))
        return _Node(op, desc, self.period if holds else _Days(), _Days(), actual)

    def node(self, rule: Mapping[str, Any]) -> _Node:
        op = rule["op"]
        if op in ("all", "any"):
            kids = tuple(self.node(r) for r in rule["rules"])
            if op == "all":
                true, maybe = self.period, self.period
                for k in kids:
                    true, maybe = true & k.true, maybe & (k.true | k.unknown)
                desc = _join([k.desc for k in kids], " dan ", " and ")
            else:
                true, maybe = _Days(), _Days()
                for k in kids:
                    true, maybe = true | k.true, maybe | k.true | k.unknown
                inner = _join([k.desc for k in kids], " atau ", " or ")
                desc = {k: f"({v})" for k, v in inner.items()}
            return _Node(op, desc, true, maybe - true, children=kids)
        if op == "not":
            kid = self.node(rule["rule"])
            desc = {"id": f"bukan ({kid.desc['id']})", "en": f"not ({kid.desc['en']})"}
            true = self.period - kid.true - kid.unknown
            return _Node(op, desc, true, kid.unknown, children=(kid,))
        return getattr(self, f"_{op}")(rule)

    def _subject_kind(self, rule: Mapping[str, Any]) -> _Node:
        texts = {
            "person": {"id": "subjek perorangan", "en": "subject is a person"},
            "household": {"id": "subjek rumah tangga", "en": "subject is a household"},
        }
        kind = self.subject.get("kind")
        actual = texts.get(kind, {"id": f"subjek {kind}", "en": f"subject is {kind}"})
        holds = None if kind is None else kind == rule["kind"]
        return self.constant("subject_kind", texts[rule["kind"]], holds, actual, "kind")

    def _sex(self, rule: Mapping[str, Any]) -> _Node:
        raw = self.subject.get("sex")
        sex = _SEX.get(str(raw).upper()) if raw is not None else None
        holds = None if sex is None else sex == rule["sex"]
        actual = _SEX_TEXT.get(sex) if sex else None
        return self.constant("sex", _SEX_TEXT[rule["sex"]], holds, actual, "sex")

    def _in_group(self, rule: Mapping[str, Any]) -> _Node:
        group = rule["group"]
        label = TARGET_GROUPS[group]
        desc = {"id": f"termasuk {label['id']}", "en": f"in target group {label['en']}"}
        held = self.subject.get("target_groups")
        if held is None:
            return _Node("in_group", desc, _Days(), self.period, None, ("target_groups",))
        true = _Days()
        names: set[str] = set()
        for item in held:
            start = _as_date(item.get("start")) or date.min
            end = _as_date(item.get("end")) or date.max
            span = _Days.between(start.toordinal(), end.toordinal() + 1) & self.period
            if span:
                names.add(item["group"])
                if item["group"] == group:
                    true = true | span
        shown = [TARGET_GROUPS.get(n, {"id": n, "en": n}) for n in sorted(names)]
        actual = (
            {
                "id": "kelompok sasaran: " + ", ".join(t["id"] for t in shown),
                "en": "target groups: " + ", ".join(t["en"] for t in shown),
            }
            if shown
            else {"id": "bukan kelompok sasaran mana pun", "en": "in no target group"}
        )
        return _Node("in_group", desc, true, _Days(), actual)

    def _birth(self) -> date | None:
        birth = _as_date(self.subject.get("birth_date"))
        if birth is not None:
            return birth
        # Without a birth date, a stated age is read as the age on the period's first day.
        for key, months in (("age_months", 1), ("age_years", 12)):
            if isinstance(self.subject.get(key), int):
                return self.start - relativedelta(months=self.subject[key] * months)
        return None

    def _age(self, rule: Mapping[str, Any]) -> _Node:
        unit = rule["unit"]
        unit_text = (
            {"id": "bulan", "en": "months"} if unit == "months" else {"id": "tahun", "en": "years"}
        )
        shown = _range_text(rule.get("min"), rule.get("max"), unit_text)
        desc = {"id": f"berumur {shown['id']}", "en": f"aged {shown['en']}"}
        birth = self._birth()
        if birth is None:
            return _Node("age", desc, _Days(), self.period, None, ("birth_date",))

        def shift(n: int) -> date:
            return birth + relativedelta(**{unit: n})

        lo = shift(rule["min"]) if rule.get("min") is not None else birth
        hi = shift(rule["max"] + 1) if rule.get("max") is not None else date.max
        true = _Days.between(lo.toordinal(), hi.toordinal()) & self.period
        first, last = (age_in(birth, d, unit) for d in (self.start, self.end))
        ages = str(max(first, 0)) if max(first, 0) == last else f"{max(first, 0)}–{last}"
        actual = {"id": f"umur {ages} {unit_text['id']}", "en": f"aged {ages} {unit_text['en']}"}
        if last < 0:
            actual = {"id": "belum lahir", "en": "not yet born"}
        return _Node("age", desc, true, _Days(), actual)

    def _krs(self, rule: Mapping[str, Any]) -> _Node:
        value = _get(self.subject, "krs.is_krs")
        desc = TARGET_GROUPS["krs"]
        holds = value if isinstance(value, bool) else None
        actual = {k: f"KRS: {v}" for k, v in _YES_NO[holds].items()} if holds is not None else None
        return self.constant("krs", desc, holds, actual, "krs.is_krs")

    def _krs_criterion(self, rule: Mapping[str, Any]) -> _Node:
        criterion = rule["criterion"]
        label = KRS_CRITERIA[criterion]
        path = f"krs.criteria.{criterion}"
        value = _get(self.subject, path)
        holds = value if isinstance(value, bool) else None
        actual = None
        if holds is not None:
            actual = {k: f"{label[k]}: {_YES_NO[holds][k]}" for k in ("id", "en")}
        return self.constant("krs_criterion", label, holds, actual, path)

    def _growth_class(self, rule: Mapping[str, Any]) -> _Node:
        index = rule["index"]
        classes = GROWTH_CLASSES[index]
        wanted = _join([classes[c] for c in rule["classes"]], " atau ", " or ")
        idx = GROWTH_INDICES[index]
        desc = {k: f"{idx[k]} {wanted[k]}" for k in ("id", "en")}
        path = f"growth.latest_class_{index}"
        value = _get(self.subject, path)
        holds = None if value is None else value in rule["classes"]
        actual = None
        if value is not None:
            shown = classes.get(value, {"id": value, "en": value})
            actual = {k: f"{idx[k]} {shown[k]}" for k in ("id", "en")}
        return self.constant("growth_class", desc, holds, actual, path)

    def _measure(self, rule: Mapping[str, Any]) -> _Node:
        label, unit = MEASURE_FIELDS[rule["field"]]
        key = next(k for k in COMPARATORS if k in rule)
        sign, compare = COMPARATORS[key]
        desc = {k: f"{label[k]} {sign} {_num(rule[key], k)} {unit}" for k in ("id", "en")}
        value = _get(self.subject, rule["field"])
        holds = None if value is None else compare(float(value), float(rule[key]))
        actual = None
        if value is not None:
            actual = {k: f"{label[k]} {_num(float(value), k)} {unit}" for k in ("id", "en")}
        return self.constant("measure", desc, holds, actual, rule["field"])

    def _welfare_decile(self, rule: Mapping[str, Any]) -> _Node:
        lo, hi = rule.get("min"), rule.get("max")
        shown = _range_text(lo, hi, {"id": "", "en": ""})
        desc = {
            "id": f"desil kesejahteraan {shown['id'].strip()}",
            "en": f"welfare decile {shown['en'].strip()}",
        }
        value = self.subject.get("welfare_decile")
        holds = None
        actual = None
        if isinstance(value, int):
            holds = (lo is None or value >= lo) and (hi is None or value <= hi)
            actual = {"id": f"desil {value}", "en": f"decile {value}"}
        return self.constant("welfare_decile", desc, holds, actual, "welfare_decile")

    def _flag(self, rule: Mapping[str, Any]) -> _Node:
        wanted = rule.get("value", True)
        yes, no = FLAG_FIELDS[rule["field"]]
        value = _get(self.subject, rule["field"])
        holds = None if not isinstance(value, bool) else value == wanted
        actual = None if holds is None else (yes if value else no)
        return self.constant("flag", yes if wanted else no, holds, actual, rule["field"])


def age_in(birth: date, on: date, unit: str = "months") -> int:
    """Completed months (or years) from ``birth`` to ``on``; -1 before birth."""
    if on < birth:
        return -1
    delta = relativedelta(on, birth)
    return delta.years * 12 + delta.months if unit == "months" else delta.years


def _pass_reasons(n: _Node) -> list[Text]:
    if n.op == "all":
        return [r for k in n.children for r in _pass_reasons(k)]
    if n.op == "any":
        return [r for k in n.children if k.true for r in _pass_reasons(k)]
    if n.actual is None or n.op == "not" or n.actual == n.desc:
        return [n.desc]
    return [{k: f"{n.desc[k]} ({n.actual[k]})" for k in ("id", "en")}]


def _fail_reasons(n: _Node) -> list[Text]:
    """Why a node is definitely false on some day; unknown parts are reported as missing."""
    if n.unknown and n.op not in ("all", "any"):
        return []
    if n.op == "all":
        failing = [k for k in n.children if not k.true and not k.unknown]
        if failing:
            return [r for k in failing for r in _fail_reasons(k)]
        if all(k.true for k in n.children):
            return [
                {
                    "id": "syarat tidak terpenuhi bersamaan: " + n.desc["id"],
                    "en": "conditions do not hold at the same time: " + n.desc["en"],
                }
            ]
        return []
    if n.op == "any":
        inner = [r for k in n.children if not k.unknown for r in _fail_reasons(k)]
        if n.unknown or not inner:
            return []
        joined = _join(inner, "; ", "; ")
        return [
            {
                "id": f"tidak memenuhi satu pun dari: {joined['id']}",
                "en": f"meets none of: {joined['en']}",
            }
        ]
    if n.op == "not":
        held = _join(_pass_reasons(n.children[0]), "; ", "; ")
        return [{"id": f"ternyata {held['id']}", "en": f"but {held['en']}"}]
    actual = n.actual or {"id": "-", "en": "-"}
    return [
        {
            "id": f"tidak memenuhi syarat “{n.desc['id']}” (tercatat: {actual['id']})",
            "en": f"does not meet “{n.desc['en']}” (recorded: {actual['en']})",
        }
    ]


def _missing(n: _Node) -> list[str]:
    found = list(n.missing) if n.unknown else []
    for k in n.children:
        found += [m for m in _missing(k) if m not in found]
    return found


def evaluate(
    rule: Rule, subject: Mapping[str, Any], as_of: date, period_end: date | None = None
) -> EligibilityResult:
    """Whether ``subject`` meets ``rule`` on ``as_of`` or, with ``period_end``, on at
    least one day of ``[as_of, period_end]`` (both inclusive)."""
    end = period_end or as_of
    if end < as_of:
        raise ValueError("period_end is before as_of")
    issues = validate_rule(rule)
    if issues:
        raise ValueError(f"invalid rule at {issues[0].path}: {issues[0].message['en']}")
    root = _Evaluator(subject, as_of, end).node(rule)
    if root.true:
        reasons, missing = _pass_reasons(root), []
    else:
        reasons, missing = _fail_reasons(root), _missing(root)
    unique = [r for n, r in enumerate(reasons) if r not in reasons[:n]]
    return EligibilityResult(
        eligible=bool(root.true),
        reasons_id=[r["id"] for r in unique],
        reasons_en=[r["en"] for r in unique],
        missing_data=missing,
        eligible_periods=root.true.periods(),
    )


def describe_rule(rule: Rule) -> Text:
    """The rule as one human sentence fragment, e.g. for catalogue listings."""
    day = date(2000, 1, 1)  # descriptions do not depend on the day
    return _Evaluator({}, day, day).node(rule).desc


def explain_ineligible(
    rule: Rule,
    subject: Mapping[str, Any],
    as_of: date,
    period_end: date | None = None,
    *,
    code: str = "",
    name: Text | None = None,
) -> Text | None:
    """Why an intervention does not apply to the subject, or None when it does."""
    result = evaluate(rule, subject, as_of, period_end)
    if result.eligible:
        return None
    what = {
        "id": f"Intervensi {code}".strip() + (f" ({name['id']})" if name else ""),
        "en": f"Intervention {code}".strip() + (f" ({name['en']})" if name else ""),
    }
    when = str(as_of) if period_end is None else f"{as_of}–{period_end}"
    if result.reasons_id:
        return {
            "id": f"{what['id']} tidak berlaku untuk subjek ini pada {when}: "
            + "; ".join(result.reasons_id),
            "en": f"{what['en']} does not apply to this subject on {when}: "
            + "; ".join(result.reasons_en),
        }
    fields = ", ".join(result.missing_data)
    return {
        "id": f"{what['id']} belum dapat dipastikan berlaku untuk subjek ini pada {when}: "
        f"data belum ada ({fields})",
        "en": f"{what['en']} cannot be confirmed to apply to this subject on {when}: "
        f"missing data ({fields})",
    }
