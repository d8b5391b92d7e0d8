"""Read-side of the key-unit registry: the lists the province publishes and the shares at 标杆.

Each list is a queryset (pages and the API paginate it in the database) plus a row function for
the exports and the frozen publication (:func:`list_table`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dualcontrol.keyunits import efficiency as eff
from dualcontrol.keyunits.models import (
    AuditOrder,
    Designation,
    DesignationStatus,
    ListKind,
    Position,
    ProductGrade,
    Surcharge,
)
from dualcontrol.keyunits.rules import load_rules
from dualcontrol.regions.models import Division


def designations(year: int) -> QuerySet[Designation]:
    return (
        Designation.objects.filter(year=year, status=DesignationStatus.CONFIRMED)
        .select_related("entity", "entity__division", "entity__industry")
        .order_by("tier", "entity__division__path", "entity__name")
    )


def over_limit(year: int) -> QuerySet[ProductGrade]:
    """超过能耗限额: lines graded ``over`` (worse than the standard's 3级 限定值)."""
    return (
        ProductGrade.objects.filter(year=year, grade="over")
        .select_related("entity", "entity__division")
        .order_by("product", "entity__name")
    )


def below_baseline(year: int) -> QuerySet[ProductGrade]:
    """低于基准水平: lines worse than the 基准 level (their upgrade deadline from the rules)."""
    return (
        ProductGrade.objects.filter(year=year, benchmark_position=Position.BELOW_BASELINE)
        .select_related("entity", "entity__division")
        .order_by("product", "entity__name")
    )


def frontrunners(year: int) -> QuerySet[ProductGrade]:
    """能效“领跑者” by the rule in ``keyunit_rules.yaml``: a unit using more than the minimum
    energy, at one of the named grades, among the best ``per_product`` values of its product line
    (ties at the cut-off are all named)."""
    rules = load_rules()
    eligible = ProductGrade.objects.filter(
        year=year,
        grade__in=rules.frontrunner_grades,
        report__energy_tce__gt=rules.frontrunner_min_energy_tce,
    )
    keep: list[int] = []
    groups: dict[tuple[str, str], list[tuple[Decimal, int]]] = {}
    for pk, product, indicator, value in eligible.values_list(
        "pk", "product", "indicator", "corrected_value"
    ):
        groups.setdefault((product, indicator), []).append((value, pk))
    for rows in groups.values():
        rows.sort()
        cut = rows[min(rules.frontrunner_per_product, len(rows)) - 1][0]
        keep += [pk for value, pk in rows if value <= cut]
    return (
        ProductGrade.objects.filter(pk__in=keep)
        .select_related("entity", "entity__division")
        .order_by("product", "indicator", "corrected_value", "entity__name")
    )


def audits(year: int | None = None) -> QuerySet[AuditOrder]:
    qs = AuditOrder.objects.select_related("entity", "entity__division")
    return qs.filter(year=year) if year else qs


def surcharges(year: int) -> QuerySet[Surcharge]:
    return (
        Surcharge.objects.filter(year=year)
        .select_related("entity", "entity__division")
        .order_by("-surcharge_yuan_per_kwh", "entity__name")
    )


# --------------------------------------------------------------------------------------------
# table rows (exports and publication)


# --------------------------------------------------------------------------------------------
# display names: pages and exports show Chinese names, never the keys stored in the rows


@cache
def _line_names() -> tuple[dict[str, str], dict[tuple[str, str], tuple[str, bool, str]]]:
    """Product key → 产品名称; (product, indicator) → (指标名称, lower is better, unit), over
    every edition of the limit standards (the newest edition's name wins)."""
    products: dict[str, str] = {}
    indicators: dict[tuple[str, str], tuple[str, bool, str]] = {}
    for info in sorted(eff.lines(), key=lambda i: i.line.standard.valid_from or dt.date.min):
        products[info.product] = info.product_name
        indicators[(info.product, info.indicator)] = (
            info.indicator_name,
            bool(info.line.lower_is_better),
            info.unit,
        )
    return products, indicators


def product_label(product: str) -> str:
    """产品名称 of a product key (an unknown key is shown as given)."""
    return _line_names()[0].get(product, product)


def indicator_label(product: str, indicator: str) -> str:
    """指标名称 of a product's indicator key (an unknown key is shown as given)."""
    found = _line_names()[1].get((product, indicator))
    return found[0] if found else indicator


def indicator_unit(product: str, indicator: str) -> str:
    found = _line_names()[1].get((product, indicator))
    return found[2] if found else ""


def lower_is_better(product: str, indicator: str) -> bool:
    found = _line_names()[1].get((product, indicator))
    return found[1] if found else True


@cache
def _surcharge_rules() -> dict[str, Any]:
    from dualcontrol.reference import efficiency as ref

    return {r.rule_id: r for r in ref.surcharge_rules()}


def surcharge_rule_title(rule_id: str) -> str:
    """The title of a surcharge rule (the document) for its id (unknown ids as given)."""
    rule = _surcharge_rules().get(rule_id)
    return rule.title if rule is not None else rule_id


SURCHARGE_TIERS = {
    "normal": gettext_lazy("不加价"),
    "second": gettext_lazy("第二档"),
    "third": gettext_lazy("第三档"),
    "within_limit": gettext_lazy("未超过限额（不加价）"),
    "restricted": gettext_lazy("超过限额一倍以内（限制类）"),
    "eliminated": gettext_lazy("超过限额一倍以上（淘汰类）"),
    "under_50pct": gettext_lazy("超过限额 50% 以下"),
    "50_to_100pct": gettext_lazy("超过限额 50% 至 100%"),
    "over_100pct": gettext_lazy("超过限额一倍以上"),
}


def surcharge_tier_label(tier: str) -> str:
    """档次 in words: the tier names of ``electricity_surcharges.yaml`` and the core's
    ``step_N`` (N started steps over the year's 分档标准)."""
    if tier.startswith("step_") and tier[5:].isdigit():
        return _("超过分档标准 %(n)s 档") % {"n": tier[5:]}
    label = SURCHARGE_TIERS.get(tier)
    return str(label) if label is not None else tier


BASIS_SOURCES = {
    "205-1 annual": gettext_lazy("205-1 年报"),
    "205-1 monthly": gettext_lazy("205-1 月报（12 个月合计）"),
    "registry": gettext_lazy("单位名录登记值"),
}


def basis_source_label(source: str) -> str:
    """Where a designation's energy figure came from (``services.annual_energy``)."""
    label = BASIS_SOURCES.get(source)
    return str(label) if label is not None else source


REPORT_EVENTS = {
    "saved": gettext_lazy("保存"),
    "submitted": gettext_lazy("提交审核"),
    "returned": gettext_lazy("退回"),
    "accepted": gettext_lazy("通过"),
    "reminded": gettext_lazy("催报"),
}


def event_label(action: str) -> str:
    label = REPORT_EVENTS.get(action)
    return str(label) if label is not None else action


def plain(v: Decimal | None) -> str:
    """A measured value without trailing zeros (120.5000 → 120.5; 13760.0000 → 13760)."""
    if v is None:
        return ""
    text = f"{v:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def grade_distance_text(g: ProductGrade) -> str:
    """距上一等级 in words: "还需降低 3 kWh/t 可达 1 级" ("" at 1级 or without a distance)."""
    if g.distance is None or not g.next_grade:
        return ""
    args = {"d": plain(g.distance), "u": g.unit, "g": g.next_grade}
    if lower_is_better(g.product, g.indicator):
        return _("还需降低 %(d)s %(u)s 可达 %(g)s 级") % args
    return _("还需提高 %(d)s %(u)s 可达 %(g)s 级") % args


def _n(v: Decimal | None) -> Decimal | None:
    return None if v is None else v.normalize() if v == v.to_integral() else v


def _grade_label(grade: str) -> str:
    return _("超限额") if grade == "over" else _("%(g)s级") % {"g": grade}


def designation_row(d: Designation) -> list[Any]:
    return [
        d.entity.uscc,
        d.entity.name,
        d.entity.division.name,
        d.entity.industry.name if d.entity.industry_id else "",
        d.get_tier_display(),
        d.basis_energy_tce,
        d.year,
    ]


DESIGNATION_HEADERS = [
    "统一社会信用代码",
    "单位名称",
    "所在区划",
    "行业",
    "类别",
    "综合能源消费量（吨标准煤）",
    "年度",
]


def grade_row(g: ProductGrade) -> list[Any]:
    return [
        g.entity.uscc,
        g.entity.name,
        g.entity.division.name,
        g.product_name,
        g.indicator_name,
        g.unit,
        g.value,
        g.corrected_value,
        _grade_label(g.grade),
        g.standard_code,
        g.get_benchmark_position_display(),
    ]


GRADE_HEADERS = [
    "统一社会信用代码",
    "单位名称",
    "所在区划",
    "产品",
    "指标",
    "单位",
    "单位产品能耗",
    "修正后",
    "等级",
    "标准",
    "标杆/基准",
]


def below_row(g: ProductGrade) -> list[Any]:
    return [*grade_row(g), load_rules().upgrade_deadline(g.product, g.year).isoformat()]


def surcharge_row(s: Surcharge) -> list[Any]:
    return [
        s.entity.uscc,
        s.entity.name,
        s.entity.division.name,
        s.year,
        product_label(s.product),
        indicator_label(s.product, s.indicator),
        s.value,
        surcharge_tier_label(s.tier),
        s.surcharge_yuan_per_kwh,
        s.electricity_kwh,
        s.amount_yuan,
        surcharge_rule_title(s.rule),
        s.rule_version,
    ]


SURCHARGE_HEADERS = [
    "统一社会信用代码",
    "单位名称",
    "所在区划",
    "年度",
    "产品",
    "指标",
    "单位产品能耗",
    "档次",
    "加价（元/千瓦时）",
    "用电量（千瓦时）",
    "加价电费（元）",
    "规则",
    "规则版本",
]


def audit_row(a: AuditOrder) -> list[Any]:
    return [
        a.entity.uscc,
        a.entity.name,
        a.entity.division.name,
        a.year,
        a.get_reason_display(),
        a.ordered_at.isoformat(),
        a.due.isoformat(),
        a.get_status_display(),
        a.report_reference,
        a.closed_at.isoformat() if a.closed_at else "",
    ]


AUDIT_HEADERS = [
    "统一社会信用代码",
    "单位名称",
    "所在区划",
    "依据年度",
    "原因",
    "责令日期",
    "报告期限",
    "状态",
    "审计报告",
    "办结日期",
]


@dataclass(frozen=True)
class ListSpec:
    title: str
    headers: list[str]
    rows: Callable[[int], QuerySet[Any]]
    row: Callable[[Any], list[Any]]


def specs() -> dict[str, ListSpec]:
    return {
        ListKind.DESIGNATIONS: ListSpec(
            _("重点用能单位名单"), DESIGNATION_HEADERS, designations, designation_row
        ),
        ListKind.OVER_LIMIT: ListSpec(
            _("超过能耗限额的单位"), GRADE_HEADERS, over_limit, grade_row
        ),
        ListKind.BELOW_BASELINE: ListSpec(
            _("低于基准水平的单位"), [*GRADE_HEADERS, "改造升级时限"], below_baseline, below_row
        ),
        ListKind.FRONTRUNNERS: ListSpec(_("能效领跑者"), GRADE_HEADERS, frontrunners, grade_row),
        ListKind.SURCHARGES: ListSpec(_("电价加价"), SURCHARGE_HEADERS, surcharges, surcharge_row),
    }


def list_table(kind: str, year: int) -> tuple[list[str], list[list[Any]]]:
    spec = specs()[kind]
    return spec.headers, [spec.row(x) for x in spec.rows(year)]


def list_rule_version(kind: str, year: int) -> str:
    """The rule versions a list rests on (the keyunit rules; the thresholds or the standards)."""
    rules = load_rules().version
    if kind == ListKind.DESIGNATIONS:
        used = designations(year).values_list("rule_version", flat=True).distinct()
    elif kind == ListKind.SURCHARGES:
        used = surcharges(year).values_list("rule_version", flat=True).distinct()
    else:
        used = (
            ProductGrade.objects.filter(year=year)
            .values_list("standard_version", flat=True)
            .distinct()
        )
    return "; ".join([rules, *sorted(set(used))])[:200]


# --------------------------------------------------------------------------------------------
# shares at 标杆


@dataclass
class Share:
    key: str
    name: str
    lines: int
    output_total: Decimal
    output_benchmark: Decimal
    below_baseline: int

    @property
    def share_frac(self) -> Decimal | None:
        if not self.output_total:
            return None
        return self.output_benchmark / self.output_total

    @property
    def share_pct(self) -> Decimal | None:
        f = self.share_frac
        return None if f is None else (f * 100).quantize(Decimal("0.1"))


def benchmark_shares(
    year: int, by: str, scope: QuerySet[ProductGrade] | None = None
) -> list[Share]:
    """达到标杆水平的产能比例 per sector (``by="industry"``) or prefecture (``by="region"``):
    output at or better than 标杆 over the output of the lines that have a 标杆/基准 level.
    Capacity is measured by reported output (a platform rule, ``keyunit_rules.yaml``)."""
    qs = (
        (scope if scope is not None else ProductGrade.objects.all())
        .filter(year=year)
        .exclude(benchmark_position=Position.UNKNOWN)
    )
    rows = qs.values_list(
        "entity__industry__code",
        "entity__industry__name",
        "entity__division__path",
        "output",
        "benchmark_position",
    )
    shares: dict[str, Share] = {}
    prefectures: dict[str, str] = {}
    if by == "region":
        prefectures = dict(Division.objects.filter(level="prefecture").values_list("code", "name"))
    for ind_code, ind_name, path, output, position in rows:
        if by == "region":
            parts = (path or "").strip("/").split("/")
            key = parts[1] if len(parts) > 1 else parts[0]
            name = prefectures.get(key, key)
        else:
            key, name = ind_code or "", ind_name or ""
        s = shares.setdefault(key, Share(key, name, 0, Decimal(0), Decimal(0), 0))
        s.lines += 1
        s.output_total += output
        if position == Position.BENCHMARK:
            s.output_benchmark += output
        if position == Position.BELOW_BASELINE:
            s.below_baseline += 1
    return sorted(shares.values(), key=lambda s: s.key)


def latest_year(today: dt.date) -> int:
    """The year whose reports are due this year (the last complete year)."""
    return today.year - 1
