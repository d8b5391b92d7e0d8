"""NBS 205-1 report (能源购进、消费与库存): the row model and its validation rules.

Column numbers are those printed on the form (shared/reference/formats.md §1.2):
1 opening stock, 2 purchases quantity, 3 purchases value (thousand yuan), 4 consumption total,
5 industrial production, 6 of which raw material, 7 non-industrial, 8 of which transport,
9 closing stock, 10 coefficient used (采用折标系数); 丁 reference coefficient (printed).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from decimal import Decimal

# (field name, printed column, zh header, en header)
COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("product_name", "甲", "能源名称", "Energy product"),
    ("unit", "乙", "计量单位", "Unit"),
    ("product_code", "丙", "代码", "Code"),
    ("opening_stock", "1", "期初库存量", "Opening stock"),
    ("purchases_qty", "2", "购进量 实物量", "Purchases (quantity)"),
    ("purchases_value_kyuan", "3", "购进量 金额(千元)", "Purchases (thousand yuan)"),
    ("consumption_total", "4", "消费量 合计", "Consumption total"),
    ("industrial_production", "5", "工业生产消费", "Industrial production"),
    ("raw_material", "6", "其中：用于原材料", "of which raw material"),
    ("non_industrial", "7", "非工业生产消费", "Non-industrial"),
    ("transport", "8", "合计中：运输工具消费", "of which transport"),
    ("closing_stock", "9", "期末库存量", "Closing stock"),
    ("coefficient_used", "10", "采用折标系数", "Coefficient used"),
)
QUANTITY_FIELDS: tuple[str, ...] = (
    "opening_stock",
    "purchases_qty",
    "purchases_value_kyuan",
    "consumption_total",
    "industrial_production",
    "raw_material",
    "non_industrial",
    "transport",
    "closing_stock",
)
COLUMN_OF: dict[str, str] = {f: col for f, col, _, _ in COLUMNS}


@dataclass(frozen=True)
class ProductSpec:
    """One energy product of the catalogue, as the validation needs it."""

    code: str
    name_zh: str
    unit: str
    coefficient_tce_per_unit: Decimal
    plausible_low: Decimal
    plausible_high: Decimal


@dataclass(frozen=True)
class Row205:
    """One energy-product row of a 205-1 report. Quantities in the product's physical unit."""

    product_code: str
    unit: str
    product_name: str = ""
    opening_stock: Decimal = Decimal(0)
    purchases_qty: Decimal = Decimal(0)
    purchases_value_kyuan: Decimal = Decimal(0)
    consumption_total: Decimal = Decimal(0)
    industrial_production: Decimal = Decimal(0)
    raw_material: Decimal = Decimal(0)
    non_industrial: Decimal = Decimal(0)
    transport: Decimal = Decimal(0)
    closing_stock: Decimal = Decimal(0)
    coefficient_used: Decimal | None = None


@dataclass(frozen=True)
class Tolerance:
    abs_tolerance: Decimal
    rel_tolerance_frac: Decimal

    def allows(self, gap: Decimal, scale: Decimal) -> bool:
        return abs(gap) <= max(self.abs_tolerance, self.rel_tolerance_frac * abs(scale))


@dataclass(frozen=True)
class Rules205:
    """Tolerances of the 205-1 cross-checks (reference data ``report_205_1_rules.yaml``)."""

    version: str
    stock_balance: Tolerance
    consumption_sum: Tolerance


MESSAGES: dict[str, tuple[str, str]] = {
    "unknown_product": ("未知能源品种代码 {value}", "unknown energy product code {value}"),
    "duplicate_product": ("能源品种 {value} 重复填报", "energy product {value} appears twice"),
    "wrong_unit": (
        "计量单位应为 {expected}，填报为 {value}",
        "unit must be {expected}, got {value}",
    ),
    "negative": ("不能为负数：{value}", "must not be negative: {value}"),
    "stock_balance": (
        "库存不平衡：期初 {opening} + 购进 {purchases} − 消费 {consumption} = {expected}，"
        "期末填报 {value}（允许误差 {allowed}）",
        "stock does not balance: opening {opening} + purchases {purchases} - consumption "
        "{consumption} = {expected}, closing reported {value} (tolerance {allowed})",
    ),
    "consumption_sum": (
        "消费量合计 {value} 应等于工业生产消费 + 非工业生产消费 = {expected}",
        "consumption total {value} must equal industrial + non-industrial = {expected}",
    ),
    "part_exceeds": (
        "{part} {value} 不能大于 {whole} {expected}",
        "{part} {value} cannot exceed {whole} {expected}",
    ),
    "coefficient_implausible": (
        "采用折标系数 {value} 超出该品种合理范围 [{low}, {high}]",
        "coefficient used {value} is outside the plausible range [{low}, {high}] for this product",
    ),
    "empty_report": ("报表没有任何能源品种行", "the report has no energy product rows"),
}


@dataclass(frozen=True)
class ValidationIssue:
    """One problem found in a report: row index (0-based in the input), field and reason."""

    row: int
    field: str
    code: str
    params: Mapping[str, str] = dc_field(default_factory=dict)

    @property
    def column(self) -> str:
        """The printed column (甲, 1 … 10) of the form."""
        return COLUMN_OF.get(self.field, "")

    def message(self, lang: str = "zh-hans") -> str:
        zh, en = MESSAGES[self.code]
        template = en if lang.startswith("en") else zh
        return template.format(**self.params)


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else str(value)


def validate_report(
    rows: Sequence[Row205],
    catalogue: Mapping[str, ProductSpec],
    rules: Rules205,
    unreadable: Mapping[int, Collection[str]] | None = None,
) -> list[ValidationIssue]:
    """All problems of a 205-1 report; an empty list means it may be stored.

    Checks: unknown or duplicated product, wrong unit, negative quantities, 4 = 5 + 7,
    6 ≤ 5, 8 ≤ 4, stock balance 9 = 1 + 2 − 4 within the rule's tolerance, and the coefficient
    used within the product's plausible range.  Every check runs on every row: a negative value
    does not hide the row's other checks.  ``unreadable`` names, per row index, the fields whose
    cell could not be read (text in a number cell, already a problem of the file): a check that
    needs such a field is skipped, the others still run.
    """
    issues: list[ValidationIssue] = []
    if not rows:
        return [ValidationIssue(row=-1, field="product_code", code="empty_report")]
    unreadable = unreadable or {}
    seen: set[str] = set()
    for i, row in enumerate(rows):
        skip = frozenset(unreadable.get(i, ()))
        spec = catalogue.get(row.product_code)
        if spec is None:
            issues.append(
                ValidationIssue(i, "product_code", "unknown_product", {"value": row.product_code})
            )
        elif row.product_code in seen:
            issues.append(
                ValidationIssue(i, "product_code", "duplicate_product", {"value": row.product_code})
            )
        seen.add(row.product_code)
        if spec is not None and row.unit.strip() != spec.unit:
            issues.append(
                ValidationIssue(i, "unit", "wrong_unit", {"value": row.unit, "expected": spec.unit})
            )
        for name in QUANTITY_FIELDS:
            value: Decimal = getattr(row, name)
            if name not in skip and value < 0:
                issues.append(ValidationIssue(i, name, "negative", {"value": _fmt(value)}))
        coef = row.coefficient_used
        if coef is not None and "coefficient_used" not in skip and coef < 0:
            issues.append(ValidationIssue(i, "coefficient_used", "negative", {"value": _fmt(coef)}))
        issues.extend(_check_identities(i, row, rules, skip))
        if (
            spec is not None
            and coef is not None
            and "coefficient_used" not in skip
            and coef >= 0
            and not spec.plausible_low <= coef <= spec.plausible_high
        ):
            issues.append(
                ValidationIssue(
                    i,
                    "coefficient_used",
                    "coefficient_implausible",
                    {
                        "value": _fmt(coef),
                        "low": _fmt(spec.plausible_low),
                        "high": _fmt(spec.plausible_high),
                    },
                )
            )
    return issues


#: the fields each identity check reads (skipped when one of them could not be read)
IDENTITY_FIELDS: dict[str, frozenset[str]] = {
    "consumption_sum": frozenset({"consumption_total", "industrial_production", "non_industrial"}),
    "raw_material": frozenset({"raw_material", "industrial_production"}),
    "transport": frozenset({"transport", "consumption_total"}),
    "stock_balance": frozenset(
        {"opening_stock", "purchases_qty", "consumption_total", "closing_stock"}
    ),
}


def _check_identities(
    i: int, row: Row205, rules: Rules205, skip: frozenset[str] = frozenset()
) -> Iterable[ValidationIssue]:
    parts = row.industrial_production + row.non_industrial
    if not IDENTITY_FIELDS["consumption_sum"] & skip and not rules.consumption_sum.allows(
        row.consumption_total - parts, row.consumption_total
    ):
        yield ValidationIssue(
            i,
            "consumption_total",
            "consumption_sum",
            {"value": _fmt(row.consumption_total), "expected": _fmt(parts)},
        )
    if not IDENTITY_FIELDS["raw_material"] & skip and row.raw_material > row.industrial_production:
        yield ValidationIssue(
            i,
            "raw_material",
            "part_exceeds",
            {
                "part": "用于原材料",
                "whole": "工业生产消费",
                "value": _fmt(row.raw_material),
                "expected": _fmt(row.industrial_production),
            },
        )
    if not IDENTITY_FIELDS["transport"] & skip and row.transport > row.consumption_total:
        yield ValidationIssue(
            i,
            "transport",
            "part_exceeds",
            {
                "part": "运输工具消费",
                "whole": "消费量合计",
                "value": _fmt(row.transport),
                "expected": _fmt(row.consumption_total),
            },
        )
    supply = row.opening_stock + row.purchases_qty
    expected_closing = supply - row.consumption_total
    gap = row.closing_stock - expected_closing
    tol = rules.stock_balance
    if not IDENTITY_FIELDS["stock_balance"] & skip and not tol.allows(gap, supply):
        allowed = max(tol.abs_tolerance, tol.rel_tolerance_frac * abs(supply))
        yield ValidationIssue(
            i,
            "closing_stock",
            "stock_balance",
            {
                "opening": _fmt(row.opening_stock),
                "purchases": _fmt(row.purchases_qty),
                "consumption": _fmt(row.consumption_total),
                "expected": _fmt(expected_closing),
                "value": _fmt(row.closing_stock),
                "allowed": _fmt(allowed),
            },
        )
