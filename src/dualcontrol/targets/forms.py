"""Forms of the targets pages (the services validate again; forms only parse)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dualcontrol.core.decomposition import Method as CoreMethod
from dualcontrol.reference.decomposition import weight_scheme
from dualcontrol.targets.models import DecompositionMethod, Target, WarningRuleSet
from dualcontrol.targets.services import BaseRow, WorkbenchParams


class TargetForm(forms.ModelForm):
    class Meta:
        model = Target
        fields = [
            "indicator",
            "division",
            "industry",
            "entity",
            "parent",
            "period_kind",
            "base_year",
            "end_year",
            "quarter",
            "base_value",
            "incentive_value",
            "unit",
            "base_level",
            "source_document",
            "note",
            "pace_definition",
            "progress_definition",
            "rule_set",
            "barometer",
            "status",
        ]
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, divisions: Any, entities: Any, parents: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["division"].queryset = divisions
        self.fields["entity"].queryset = entities
        self.fields["parent"].queryset = parents
        self.fields["rule_set"].queryset = WarningRuleSet.objects.filter(active=True)
        self.fields["unit"].required = False


class StatisticsUploadForm(forms.Form):
    file = forms.FileField(label=_("CSV 文件（UTF-8）"))


class SignForm(forms.Form):
    signed_on = forms.DateField(
        label=_("签订日期"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    issuer_signatory = forms.CharField(label=_("下达方签字人"), max_length=64)
    party_signatory = forms.CharField(label=_("责任方签字人"), max_length=64)


class WarnRunForm(forms.Form):
    year = forms.IntegerField(label=_("年份"), min_value=2000, max_value=2100)
    month = forms.IntegerField(label=_("月份"), min_value=1, max_value=12)


# the workbench compares the intensity methods of the core (proportional and uniform split
# totals: they are offered on the allocation page, not here)
METHODS = [
    (value, label)
    for value, label in DecompositionMethod.choices
    if value in {m.value for m in CoreMethod}
]


class WorkbenchForm(forms.Form):
    """Two methods side by side, their parameters, and per-region tiers / manual targets."""

    method_a = forms.ChoiceField(label=_("方案 A"), choices=METHODS, initial="tiered")
    method_b = forms.ChoiceField(label=_("方案 B"), choices=METHODS, initial="weighted")
    gdp_growth_pct_per_year = forms.FloatField(
        label=_("GDP 年均实际增长预测（%）"), min_value=-20, max_value=30
    )
    reserve_tce = forms.FloatField(label=_("能耗单列预留（吨标准煤）"), min_value=0, required=False)
    tiers = forms.CharField(
        label=_("分档（档:降低率%，逗号分隔）"),
        help_text=_("例如 t1:17,t2:15,t3:13"),
        max_length=200,
    )
    spread_pct = forms.FloatField(label=_("加权法离散度（%）"), min_value=0, max_value=99)
    efficiency_min = forms.FloatField(label=_("效率法下限（× 上级目标）"), min_value=0, max_value=5)
    efficiency_max = forms.FloatField(label=_("效率法上限（× 上级目标）"), min_value=0, max_value=5)

    def __init__(
        self,
        *args: Any,
        rows: list[BaseRow],
        defaults: WorkbenchParams,
        **kwargs: Any,
    ):
        initial = {
            "gdp_growth_pct_per_year": defaults.gdp_growth_pct_per_year,
            "reserve_tce": defaults.reserve_tce,
            "tiers": ",".join(f"{t}:{p:g}" for t, p in defaults.tiers),
            "spread_pct": defaults.spread_pct,
            "efficiency_min": defaults.efficiency_min,
            "efficiency_max": defaults.efficiency_max,
        }
        kwargs.setdefault("initial", {})
        initial.update(kwargs["initial"])
        kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        self.rows = rows
        self.weight_columns = list(defaults.weights)
        names = {f.column: f.name_zh for f in weight_scheme().factors}
        for column, weight in defaults.weights.items():
            self.fields[f"w_{column}"] = forms.FloatField(
                label=names.get(column, column), min_value=0, initial=weight
            )
        tier_ids = [t for t, _ in defaults.tiers]
        for row in rows:
            code = row.division.code
            self.fields[f"tier_{code}"] = forms.CharField(
                required=False, initial=defaults.tier_of.get(code, tier_ids[0] if tier_ids else "")
            )
            self.fields[f"manual_{code}"] = forms.FloatField(
                required=False,
                min_value=0,
                max_value=99.99,
                initial=round(defaults.manual_pct.get(code, 0), 2),
            )
            self.fields[f"growth_{code}"] = forms.FloatField(
                required=False, min_value=-20, max_value=30
            )

    def clean_tiers(self) -> list[tuple[str, float]]:
        out = []
        for part in self.cleaned_data["tiers"].split(","):
            if not part.strip():
                continue
            name, _sep, value = part.partition(":")
            try:
                pct = float(value)
            except ValueError:
                raise forms.ValidationError(_("分档格式应为 档:百分数，如 t1:17")) from None
            if not name.strip() or not 0 <= pct < 100:
                raise forms.ValidationError(_("分档格式应为 档:百分数，如 t1:17"))
            out.append((name.strip(), pct))
        if not out:
            raise forms.ValidationError(_("至少设定一个档"))
        return out

    def params(self) -> WorkbenchParams:
        d = self.cleaned_data
        tier_ids = {t for t, _ in d["tiers"]}
        tier_of = {}
        manual = {}
        growth = {}
        for row in self.rows:
            code = row.division.code
            tier = (d.get(f"tier_{code}") or "").strip()
            if tier in tier_ids:
                tier_of[code] = tier
            if d.get(f"manual_{code}") is not None:
                manual[code] = float(d[f"manual_{code}"])
            if d.get(f"growth_{code}") is not None:
                growth[code] = float(d[f"growth_{code}"])
        return WorkbenchParams(
            gdp_growth_pct_per_year=d["gdp_growth_pct_per_year"],
            reserve_tce=d.get("reserve_tce") or 0.0,
            tiers=d["tiers"],
            tier_of=tier_of,
            weights={c: d[f"w_{c}"] for c in self.weight_columns},
            spread_pct=d["spread_pct"],
            efficiency_min=d["efficiency_min"],
            efficiency_max=d["efficiency_max"],
            manual_pct=manual,
            growth_pct_of=growth,
        )

    def region_fields(self) -> list[dict[str, Any]]:
        return [
            {
                "row": row,
                "tier": self[f"tier_{row.division.code}"],
                "manual": self[f"manual_{row.division.code}"],
                "growth": self[f"growth_{row.division.code}"],
            }
            for row in self.rows
        ]

    def weight_fields(self) -> list[Any]:
        return [self[f"w_{c}"] for c in self.weight_columns]
