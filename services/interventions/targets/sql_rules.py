"""Eligibility rules (eligibility.py) translated to SQL over the ``subject`` table.

The rules hold "on at least one day of the period" (pointwise, three-valued). The SQL
is always a necessary condition, so it can prefilter; it is also *exact* (true exactly
when the rule is) for the shapes that cover the catalogue:

- a leaf whose value does not change within the period (kind, sex, KRS, growth class,
  measures, decile, flags) is exact, and SQL's NULL logic is Kleene's, like the rules;
- an ``age`` or ``in_group`` leaf is exact as "holds on some day";
- ``any`` of exact parts is exact (some day A or B = some day A, or some day B);
- ``all`` of exact parts is exact when at most one part changes over time;
- ``not`` of an exact part that does not change over time is exact.

Anything else (two time-varying parts under one ``all``, ``not`` of an age) gives a
prefilter only, and the rules are evaluated in Python on what it selects.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta

from services.interventions.subjects.repository import krs_of

# Month-end clipping makes "birth + n months" and "day - n months" differ by up to 3 days.
_SLACK = timedelta(days=3)
_FLAG_COLUMNS = {"has_birth_certificate": "has_birth_certificate", "has_nik": "has_nik"}
_COMPARE = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


@dataclass
class SqlRule:
    sql: str
    params: dict[str, Any]
    exact: bool


@dataclass
class _Part:
    sql: str
    exact: bool
    varies: bool


@dataclass
class _Translator:
    """``start``/``end`` are SQL date expressions for the period; ``start_day``/``end_day``
    their values when constant, which adds index-friendly bounds on birth dates."""

    alias: str
    start: str
    end: str
    start_day: date | None
    end_day: date | None
    prefix: str
    groups: str
    krs: str
    params: dict[str, Any] = field(default_factory=dict)

    def bind(self, value: Any, sql_type: str) -> str:
        name = f"{self.prefix}{len(self.params)}"
        self.params[name] = value
        return f"CAST(:{name} AS {sql_type})"

    def col(self, name: str) -> str:
        return f"{self.alias}.{name}"

    def part(self, rule: Mapping[str, Any]) -> _Part:
        op = rule["op"]
        if op in ("all", "any"):
            kids = [self.part(r) for r in rule["rules"]]
            joiner = " AND " if op == "all" else " OR "
            sql = "(" + joiner.join(k.sql for k in kids) + ")"
            varying = sum(k.varies for k in kids)
            exact = all(k.exact for k in kids) and (op == "any" or varying <= 1)
            return _Part(sql, exact, varying > 0)
        if op == "not":
            kid = self.part(rule["rule"])
            if kid.exact and not kid.varies:
                return _Part(f"(NOT {kid.sql})", True, False)
            return _Part("TRUE", False, True)
        if op == "age":
            return _Part(self._age(rule), True, True)
        if op == "in_group":
            return _Part(self._in_group(rule["group"]), True, True)
        return _Part(getattr(self, f"_{op}")(rule), True, False)

    def _subject_kind(self, rule: Mapping[str, Any]) -> str:
        return f"({self.col('kind')} = {self.bind(rule['kind'], 'text')})"

    def _sex(self, rule: Mapping[str, Any]) -> str:
        return f"({self.col('sex')} = {2 if rule['sex'] == 'F' else 1})"

    def _in_group(self, group: str) -> str:
        name = self.bind(group, "text")
        return (
            f"EXISTS (SELECT 1 FROM {self.groups} g WHERE g.subject_id = {self.col('id')}"
            f" AND g.grp = {name} AND g.start_day <= g.end_day"
            f" AND g.start_day <= {self.end} AND g.end_day >= {self.start})"
        )

    def _age(self, rule: Mapping[str, Any]) -> str:
        per = 12 if rule["unit"] == "years" else 1
        lo, hi = rule.get("min"), rule.get("max")
        birth = self.col("birth_date")
        terms = [f"{birth} IS NOT NULL"]
        # Aged lo..hi on some day d of the period: birth + lo <= end and birth + hi + 1 > start.
        if lo is None:
            terms.append(f"{birth} <= {self.end}")
        else:
            months = self.bind(lo * per, "integer")
            terms.append(f"({birth} + make_interval(months => {months}))::date <= {self.end}")
        if hi is not None:
            months = self.bind((hi + 1) * per, "integer")
            terms.append(f"({birth} + make_interval(months => {months}))::date > {self.start}")
        if self.end_day is not None:
            latest = self.end_day - relativedelta(months=(lo or 0) * per) + _SLACK
            terms.append(f"{birth} <= {self.bind(latest, 'date')}")
        if self.start_day is not None and hi is not None:
            earliest = self.start_day - relativedelta(months=(hi + 1) * per) - _SLACK
            terms.append(f"{birth} > {self.bind(earliest, 'date')}")
        return "(" + " AND ".join(terms) + ")"

    def _krs(self, rule: Mapping[str, Any]) -> str:
        return f"(({self.krs})->>'is_krs')::boolean"

    def _krs_criterion(self, rule: Mapping[str, Any]) -> str:
        name = self.bind(rule["criterion"], "text")
        return f"(({self.krs})->'criteria'->>{name})::boolean"

    def _growth_class(self, rule: Mapping[str, Any]) -> str:
        key = self.bind(f"latest_class_{rule['index']}", "text")
        classes = self.bind(list(rule["classes"]), "text[]")
        return f"(({self.col('growth')}->>{key}) = ANY({classes}))"

    def _measure(self, rule: Mapping[str, Any]) -> str:
        key = self.bind(rule["field"].removeprefix("growth."), "text")
        comparator = next(k for k in _COMPARE if k in rule)
        value = self.bind(float(rule[comparator]), "float8")
        return f"(({self.col('growth')}->>{key})::float8 {_COMPARE[comparator]} {value})"

    def _welfare_decile(self, rule: Mapping[str, Any]) -> str:
        decile = self.col("welfare_decile")
        terms = []
        if rule.get("min") is not None:
            terms.append(f"{decile} >= {self.bind(rule['min'], 'integer')}")
        if rule.get("max") is not None:
            terms.append(f"{decile} <= {self.bind(rule['max'], 'integer')}")
        return "(" + " AND ".join(terms) + ")"

    def _flag(self, rule: Mapping[str, Any]) -> str:
        wanted = self.bind(bool(rule.get("value", True)), "boolean")
        field_name = rule["field"]
        if field_name in _FLAG_COLUMNS:
            return f"({self.col(_FLAG_COLUMNS[field_name])} = {wanted})"
        key = self.bind(field_name.removeprefix("growth."), "text")
        return f"(({self.col('growth')}->>{key})::boolean = {wanted})"


def rule_sql(
    rule: Mapping[str, Any],
    *,
    alias: str = "s",
    start: str = "CAST(:period_start AS date)",
    end: str = "CAST(:period_end AS date)",
    start_day: date | None = None,
    end_day: date | None = None,
    prefix: str = "r",
    groups: str = "subject_group",
    krs: str | None = None,
) -> SqlRule:
    """SQL true when the rule holds for the row ``alias`` on some day in [start, end];
    ``groups`` is the table of target-group windows (``subject_group``), ``krs`` the SQL
    of the subject's KRS assessment (its own or its household's by default)."""
    krs_sql = krs or krs_of(alias)
    translator = _Translator(alias, start, end, start_day, end_day, prefix, groups, krs_sql)
    part = translator.part(rule)
    return SqlRule(part.sql, translator.params, part.exact)
