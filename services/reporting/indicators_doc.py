"""docs/INDICATORS.md, generated from the indicator catalogue and the coverage targets
(``kkb reporting indicators-doc``); a test keeps the file equal to this output."""

from services.reporting.engine.targets import (
    TARGETS,
    TPK_HOUSEHOLD_GROUP,
    TPK_PERSON_GROUPS,
    intervention_order,
)
from services.reporting.indicators.catalogue import (
    CATALOGUE,
    DIRECTION_LABELS,
    UNIT_LABELS,
    IndicatorDefinition,
)

_HEADER = """# Reporting indicators

Generated from `services/reporting/indicators/catalogue.py` and
`services/reporting/engine/targets.py` by `kkb reporting indicators-doc`; do not edit
by hand. `GET /v1/reporting/indicators` serves the same definitions.

How every figure is counted:

- Each indicator has a version; figures record the key (`code@vN`) they were computed
  with, and a published report keeps it.
- Periods: month `2026-03`, quarter `2026-Q1`, year `2026`, weighing month `2026-BPB-02`.
  "In the period" means on some day from its first to its last day.
- A person is counted in the village they lived in at the end of the period (moves keep
  their history), a household, site or referral in its own village. A region's figure
  is the sum of its villages', so every level adds up and no one counts twice.
- Children under five: younger than 60 months (the registry scores up to day 1,826).
  Per child and index, the latest measurement of the period with a valid value counts;
  values flagged as biologically implausible are skipped, oedema counts as severely
  wasted and is left out of weight-for-age, corrected measurements count only in
  their corrected form.
- Callers without the personal-data right (analysts) see a figure over fewer than 10
  people withheld, with complementary cells, over the whole province tree.
"""


def _definition(d: IndicatorDefinition) -> list[str]:
    lines = [
        f"### `{d.code}` (v{d.version}, valid from {d.valid_from.isoformat()})",
        "",
        f"**{d.name['en']}** / *{d.name['id']}*",
        "",
        f"- Unit: {UNIT_LABELS[d.unit]['en']}; {DIRECTION_LABELS[d.direction]['en']}",
        f"- Numerator: {d.numerator['en']}",
        f"  - *Pembilang: {d.numerator['id']}*",
    ]
    if d.denominator:
        lines += [
            f"- Denominator: {d.denominator['en']}",
            f"  - *Penyebut: {d.denominator['id']}*",
        ]
    lines.append(f"- Read models: {', '.join(m.value for m in d.read_models)}")
    domain = d.parameter_domain
    if domain is not None:
        if domain.kind == "intervention":
            values = ", ".join(sorted(TARGETS, key=intervention_order))
        elif domain.kind == "tpk_target_group":
            values = ", ".join((*TPK_PERSON_GROUPS, TPK_HOUSEHOLD_GROUP))
        else:
            values = ", ".join(domain.labels)
        lines.append(f"- Parameter ({domain.kind}): {values}")
    return [*lines, ""]


def _targets() -> list[str]:
    lines = [
        "## Coverage targets per intervention",
        "",
        "Who counts in the denominator of `coverage:<code>` (and of `convergence`, which",
        "takes every intervention below). Mirrors version 1 of the interventions catalogue.",
        "",
        "| code | subject | target | conditions |",
        "|---|---|---|---|",
    ]
    for code in sorted(TARGETS, key=intervention_order):
        spec = TARGETS[code]
        conditions = []
        if spec.groups:
            conditions.append("in group " + " or ".join(spec.groups))
        if spec.age_months:
            conditions.append(f"aged {spec.age_months[0]}–{spec.age_months[1]} months")
        if spec.age_years:
            conditions.append(f"aged {spec.age_years[0]}–{spec.age_years[1]} years")
        if spec.krs:
            conditions.append("KRS" + (f" with {spec.krs_criterion}" if spec.krs_criterion else ""))
        if spec.growth:
            conditions.append(spec.growth.replace("_", " "))
        if spec.max_muac_cm is not None:
            conditions.append(f"LiLA < {spec.max_muac_cm} cm")
        if spec.welfare_decile:
            conditions.append(f"welfare decile {spec.welfare_decile[0]}–{spec.welfare_decile[1]}")
        if spec.missing_documents:
            conditions.append("no birth certificate or no NIK")
        target = f"{spec.national_target_pct:g}%" if spec.national_target_pct else "–"
        lines.append(
            f"| {code} | {spec.subject} | {target} | {'; '.join(conditions) or 'every one'} |"
        )
    return [*lines, ""]


def render_markdown() -> str:
    lines = [_HEADER, "## Definitions", ""]
    for code in CATALOGUE.codes():
        for definition in CATALOGUE.versions(code):
            lines += _definition(definition)
    lines += _targets()
    return "\n".join(lines).rstrip() + "\n"
