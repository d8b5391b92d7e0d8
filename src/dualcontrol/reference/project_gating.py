"""Project gating rules (``project_gating.yaml``) as one plain, versioned value.

两高 rule sets, capacity-replacement ratios, review thresholds, the ramp-up rule of the scenario
formula, the re-review trigger and the elimination sectors with the consequence of a missed target.
The rules proper are pure functions in :mod:`dualcontrol.core.scenarios`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any

from dualcontrol.core.scenarios import (
    ClassRuleSet,
    IndustryClass,
    RampUp,
    ReplacementRatio,
    ReviewThresholds,
)
from dualcontrol.reference import ReferenceDataError, load_yaml

GATING_FILE = "project_gating.yaml"


@dataclass(frozen=True)
class EliminationSector:
    code: str
    name_zh: str
    unit: str
    industries: tuple[str, ...]


@dataclass(frozen=True)
class ReReview:
    overrun_frac: float | None
    inclusive: bool
    measures: tuple[str, ...]
    source: str
    national: str
    examples: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Gating:
    version: str
    two_high: tuple[ClassRuleSet, ...]
    window_guidance_tce: float
    window_guidance_source: str
    review_rules: tuple[ReviewThresholds, ...]
    platform_provincial_min_tce: float | None
    exempt_industries: tuple[str, ...]
    exempt_industries_source: str
    zones: dict[str, str]
    cases: dict[str, str]
    ratios: tuple[ReplacementRatio, ...]
    replacement_not_found: dict[str, str]
    separate_accounting: dict[str, str]
    ramp: RampUp
    by_operation_month: bool
    re_review: ReReview
    elimination_sectors: dict[str, EliminationSector]
    elimination_sources: dict[str, str]
    consequence: dict[str, str]

    def sector(self, code: str) -> EliminationSector | None:
        return self.elimination_sectors.get(code)

    def sectors_of_industry(self, industry_code: str) -> list[EliminationSector]:
        """Elimination sectors whose GB/T 4754 prefixes cover ``industry_code`` (either way)."""
        code = (industry_code or "").strip()
        if not code:
            return []
        return [
            s
            for s in self.elimination_sectors.values()
            if any(code.startswith(p) or p.startswith(code) for p in s.industries)
        ]


def _date(value: Any, where: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ReferenceDataError(f"{where}: bad date {value!r}") from exc


def _num(value: Any, where: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError) as exc:
        raise ReferenceDataError(f"{where}: not a number {value!r}") from exc
    if out < 0:
        raise ReferenceDataError(f"{where}: negative {value!r}")
    return out


def _gating_from(version: str, d: dict[str, Any]) -> Gating:
    rule_sets = []
    for rs in d["two_high"]["rule_sets"]:
        where = f"{GATING_FILE} two_high {rs.get('code')}"
        classes = tuple(
            IndustryClass(str(c["code"]), str(c["name_zh"]), tuple(str(i) for i in c["industries"]))
            for c in rs["classes"]
        )
        if not classes or any(not c.industries for c in classes):
            raise ReferenceDataError(f"{where}: every class needs industries")
        rule_sets.append(
            ClassRuleSet(
                code=str(rs["code"]),
                title_zh=str(rs["title_zh"]),
                source=str(rs["source"]),
                valid_from=_date(rs.get("valid_from"), where),
                valid_to=_date(rs.get("valid_to"), where),
                classes=classes,
            )
        )
    ra = d["review_authority"]
    review_rules = []
    for r in ra["rules"]:
        where = f"{GATING_FILE} review_authority {r.get('code')}"
        review_rules.append(
            ReviewThresholds(
                code=str(r["code"]),
                title_zh=str(r["title_zh"]),
                valid_from=_date(r.get("valid_from"), where),
                valid_to=_date(r.get("valid_to"), where),
                provincial_min_tce=_num(r.get("provincial_min_tce"), where),
                exempt_below_tce=_num(r.get("exempt_below_tce"), where),
                exempt_below_electricity_kwh=_num(r.get("exempt_below_electricity_kwh"), where),
                exempt_below_coal_t=_num(r.get("exempt_below_coal_t"), where),
                source=str(r["source"]).strip(),
                conflict=str(r.get("conflict") or "").strip(),
            )
        )
    cr = d["capacity_replacement"]
    ratios = []
    for i, r in enumerate(cr["ratios"], start=1):
        where = f"{GATING_FILE} capacity_replacement ratio {i}"
        if r["zone"] not in cr["zones"] or r["case"] not in cr["cases"]:
            raise ReferenceDataError(f"{where}: unknown zone or case")
        ratio = _num(r["ratio"], where)
        if ratio is None or ratio < 1:
            raise ReferenceDataError(f"{where}: a replacement ratio is at least 1")
        ratios.append(
            ReplacementRatio(
                sector=str(r["sector"]),
                zone=str(r["zone"]),
                case=str(r["case"]),
                ratio=ratio,
                valid_from=_date(r.get("valid_from"), where),
                valid_to=_date(r.get("valid_to"), where),
                source=str(r["source"]),
                quote=str(r.get("quote") or ""),
            )
        )
    ru = d["ramp_up"]
    share = _num(ru["first_year_share_frac"], f"{GATING_FILE} ramp_up")
    if share is None or share > 1:
        raise ReferenceDataError(f"{GATING_FILE} ramp_up: share must be 0–1")
    rr = d["re_review"]
    pr = rr["platform_rule"]
    el = d["elimination"]
    sectors = {
        str(s["code"]): EliminationSector(
            str(s["code"]),
            str(s["name_zh"]),
            str(s.get("unit") or ""),
            tuple(str(i) for i in s["industries"]),
        )
        for s in el["sectors"]
    }
    sa = d["separate_accounting"]
    return Gating(
        version=version,
        two_high=tuple(rule_sets),
        window_guidance_tce=float(d["two_high"]["window_guidance"]["min_new_energy_tce"]),
        window_guidance_source=str(d["two_high"]["window_guidance"]["source"]),
        review_rules=tuple(review_rules),
        platform_provincial_min_tce=_num(
            ra.get("platform_provincial_min_tce"), f"{GATING_FILE} review_authority"
        ),
        exempt_industries=tuple(str(x) for x in ra["exempt_industries"]["names_zh"]),
        exempt_industries_source=str(ra["exempt_industries"]["source"]),
        zones={str(k): str(v) for k, v in cr["zones"].items()},
        cases={str(k): str(v) for k, v in cr["cases"].items()},
        ratios=tuple(ratios),
        replacement_not_found={str(k): str(v) for k, v in (cr.get("not_found") or {}).items()},
        separate_accounting={k: str(sa[k]) for k in ("quote", "source", "effect", "list")},
        ramp=RampUp(first_year_share_frac=share, source=str(ru["source"]).strip()),
        by_operation_month=bool(ru.get("by_operation_month")),
        re_review=ReReview(
            overrun_frac=_num(pr.get("overrun_frac"), f"{GATING_FILE} re_review"),
            inclusive=bool(pr.get("inclusive", True)),
            measures=tuple(str(m) for m in pr.get("measures") or ()),
            source=str(pr["source"]),
            national=str(rr["national"]),
            examples=tuple(dict(x) for x in rr.get("provincial_examples") or ()),
        ),
        elimination_sectors=sectors,
        elimination_sources={
            k: str(el[k]).strip()
            for k in ("sectors_source", "list_fields_source", "acceptance_source")
        },
        consequence={k: str(v).strip() for k, v in el["consequence"].items()},
    )


@cache
def gating() -> Gating:
    """The gating rules in force (their version goes on every review decision)."""
    version, d = load_yaml(GATING_FILE)
    try:
        return _gating_from(version, d)
    except ReferenceDataError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ReferenceDataError(f"{GATING_FILE}: {exc!r}") from exc
