"""Forms of the project pages (the rules proper live in services; these only parse input)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from dualcontrol.entities.models import Entity, Industry
from dualcontrol.projects import investment
from dualcontrol.projects.models import Kind
from dualcontrol.projects.rules import project_rules
from dualcontrol.regions.models import Division

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def type_choices(day: dt.date | None = None) -> list[tuple[str, Any]]:
    """Project types grouped by kind (valid on ``day``)."""
    rules = project_rules()
    return [
        (
            str(label),
            [(t.code, t.label) for t in rules.types_of(str(kind), day)],
        )
        for kind, label in Kind.choices
    ]


def measure_fields(prefix: str, label_suffix: str) -> dict[str, forms.DecimalField]:
    rules = project_rules()
    return {
        f"{prefix}_{m.code}": forms.DecimalField(
            label=f"{m.label}（{m.unit}）{label_suffix}",
            required=False,
            min_value=0,
            max_digits=16,
            decimal_places=3,
        )
        for m in rules.measures.values()
    }


class ProjectForm(forms.Form):
    kind = forms.ChoiceField(label=_("项目类别"), choices=Kind.choices)
    type_code = forms.ChoiceField(label=_("项目类型"), choices=())
    name = forms.CharField(label=_("项目名称"), max_length=200)
    registry_code = forms.CharField(label=_("项目编号（上级系统）"), max_length=64, required=False)
    division = forms.ModelChoiceField(label=_("所在地区"), queryset=Division.objects.none())
    entity = forms.ModelChoiceField(
        label=_("项目单位（报告单位名录）"), queryset=Entity.objects.none(), required=False
    )
    owner_name = forms.CharField(
        label=_("项目单位名称（不在名录中时）"), max_length=200, required=False
    )
    industry = forms.ModelChoiceField(
        label=_("行业"), queryset=Industry.objects.all(), required=False
    )
    planned_start = forms.DateField(label=_("计划开工日期"), widget=DATE)
    planned_completion = forms.DateField(label=_("计划完成日期"), widget=DATE)
    description = forms.CharField(
        label=_("建设内容"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, divisions: Any = None, entities: Any = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["type_code"].choices = type_choices()  # type: ignore[attr-defined]
        if divisions is not None:
            self.fields["division"].queryset = divisions  # type: ignore[attr-defined]
        if entities is not None:
            self.fields["entity"].queryset = entities  # type: ignore[attr-defined]
        self.fields.update(measure_fields("planned", str(_("计划"))))

    def planned(self) -> dict[str, Any]:
        return {code: self.cleaned_data.get(f"planned_{code}") for code in project_rules().measures}

    def values(self) -> dict[str, Any]:
        keys = (
            "kind",
            "type_code",
            "name",
            "registry_code",
            "division",
            "entity",
            "owner_name",
            "industry",
            "planned_start",
            "planned_completion",
            "description",
        )
        return {k: self.cleaned_data.get(k) for k in keys}


class MilestoneForm(forms.Form):
    name = forms.CharField(label=_("节点"), max_length=120)
    due_date = forms.DateField(label=_("计划日期"), widget=DATE)


class DateForm(forms.Form):
    day = forms.DateField(label=_("日期"), widget=DATE)


class EvidenceForm(forms.Form):
    kind = forms.ChoiceField(label=_("材料类型"), choices=())
    document = forms.FileField(label=_("文件"))
    note = forms.CharField(label=_("说明"), max_length=255, required=False)

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["kind"].choices = [  # type: ignore[attr-defined]
            (e.code, e.label) for e in project_rules().evidence.values()
        ]


class VerifyForm(forms.Form):
    accounting_year = forms.IntegerField(
        label=_("核算年度"),
        required=False,
        min_value=2000,
        max_value=2100,
        help_text=_("默认为项目完成年度。"),
    )
    note = forms.CharField(
        label=_("核查意见"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, measures: tuple[str, ...] = (), **kw: Any) -> None:
        super().__init__(*args, **kw)
        rules = project_rules()
        for key, f in measure_fields("verified", str(_("核定"))).items():
            if key.removeprefix("verified_") in measures:
                self.fields[key] = f
        self.measure_codes = [m for m in measures if m in rules.measures]

    def figures(self) -> dict[str, Any]:
        return {code: self.cleaned_data.get(f"verified_{code}") for code in self.measure_codes}


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("不予认可理由"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("说明"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class InvestmentForm(forms.Form):
    """登记固定资产投资项目 (issue 20): the fields of :func:`investment.register_investment`."""

    name = forms.CharField(label=_("项目名称"), max_length=255)
    division = forms.ModelChoiceField(label=_("所在地区"), queryset=None)
    entity = forms.ModelChoiceField(label=_("项目单位（名录内）"), queryset=None, required=False)
    owner_name = forms.CharField(label=_("项目单位名称（名录外）"), max_length=128, required=False)
    industry = forms.ModelChoiceField(label=_("行业"), queryset=None, required=False)
    stage = forms.ChoiceField(label=_("状态"))
    planned_start = forms.DateField(label=_("计划开工日期"), widget=DATE)
    planned_completion = forms.DateField(label=_("计划完成日期"), widget=DATE)
    operation_date = forms.DateField(label=_("计划投产日期"), required=False, widget=DATE)
    capacity_value = forms.DecimalField(label=_("产能/规模"), required=False, min_value=0)
    capacity_unit = forms.CharField(label=_("产能单位"), max_length=32, required=False)
    sector_code = forms.ChoiceField(label=_("产能置换/淘汰行业"), required=False)
    energy_equivalent_tce = forms.DecimalField(
        label=_("年综合能源消费量（当量值，吨标准煤）"), min_value=0
    )
    energy_equal_value_tce = forms.DecimalField(
        label=_("年综合能源消费量（等价值，吨标准煤）"), required=False, min_value=0
    )
    electricity_kwh = forms.DecimalField(
        label=_("年电力消费量（千瓦时）"), required=False, min_value=0
    )
    coal_t = forms.DecimalField(label=_("年煤炭消费量（吨）"), required=False, min_value=0)
    co2_t = forms.DecimalField(label=_("年二氧化碳排放量（吨）"), required=False, min_value=0)
    value_added_10k_yuan = forms.DecimalField(
        label=_("年增加值（万元，可比价）"), required=False, min_value=0
    )
    is_increment = forms.BooleanField(label=_("改建项目按增量计算"), required=False)
    replacement = forms.ChoiceField(label=_("能耗或产能替代"), required=False)
    replaced_capacity = forms.DecimalField(label=_("替代的产能"), required=False, min_value=0)
    replaced_energy_tce = forms.DecimalField(
        label=_("替代的能耗（吨标准煤）"), required=False, min_value=0
    )
    replacement_source = forms.CharField(
        label=_("替代来源说明（单位、生产线、设备）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    replacement_zone = forms.ChoiceField(label=_("置换区域"), required=False)
    replacement_case = forms.ChoiceField(label=_("置换情形"), required=False)
    separately_accounted = forms.BooleanField(label=_("能耗单列（国家重大项目）"), required=False)
    separate_list_ref = forms.CharField(
        label=_("国家重大项目清单依据"), max_length=255, required=False
    )
    description = forms.CharField(
        label=_("项目说明"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    DETAILS = investment.DETAIL_FIELDS

    def __init__(self, *args: Any, divisions: Any, entities: Any, **kwargs: Any) -> None:
        from dualcontrol.entities.models import Industry
        from dualcontrol.projects.models import Replacement, Stage
        from dualcontrol.reference.project_gating import gating

        super().__init__(*args, **kwargs)
        rules = gating()
        self.fields["division"].queryset = divisions
        self.fields["entity"].queryset = entities
        self.fields["industry"].queryset = Industry.objects.order_by("code")
        self.fields["stage"].choices = Stage.choices
        self.fields["replacement"].choices = Replacement.choices
        self.fields["sector_code"].choices = [("", "—")] + [
            (code, s.name_zh) for code, s in rules.elimination_sectors.items()
        ]
        self.fields["replacement_zone"].choices = [("", "—"), *rules.zones.items()]
        self.fields["replacement_case"].choices = [("", "—"), *rules.cases.items()]
