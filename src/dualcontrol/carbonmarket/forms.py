"""Forms of the carbon-market pages (validation of types; rules are in services and the core)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from dualcontrol.carbonmarket.models import ActionKind, Sector
from dualcontrol.reference.carbon_market import market_rules

POSITIVE = {"min_value": 0, "max_digits": 16, "decimal_places": 3}
#: the years a page or API write may name (the national market's first year to the platform's end)
YEARS = {"min_value": 2013, "max_value": 2100}


class YearForm(forms.Form):
    """The year of a write that names only a year (the API's bodies; the pages take it from the
    address)."""

    year = forms.IntegerField(label=_("年度"), **YEARS)


class ReportForm(forms.Form):
    sector = forms.ChoiceField(label=_("行业"), choices=Sector.choices)
    method = forms.CharField(label=_("核算方法（所用核算与报告指南）"), max_length=200)
    fuel_co2_t = forms.DecimalField(label=_("化石燃料燃烧排放（tCO2）"), **POSITIVE)
    process_co2e_t = forms.DecimalField(
        label=_("工业过程排放（tCO2e）"), required=False, **POSITIVE
    )
    indirect_co2_t = forms.DecimalField(
        label=_("购入电力、热力间接排放（tCO2，仅报告，不计入配额管理）"),
        required=False,
        **POSITIVE,
    )
    supply_mwh = forms.DecimalField(label=_("供电量（MWh，发电行业）"), required=False, **POSITIVE)
    heat_gj = forms.DecimalField(label=_("供热量（GJ）"), required=False, **POSITIVE)
    output_t = forms.DecimalField(label=_("主要产品产量（t）"), required=False, **POSITIVE)


class VerifyForm(forms.Form):
    verified_co2e_t = forms.DecimalField(label=_("核查确认排放量（tCO2e）"), **POSITIVE)
    findings = forms.CharField(label=_("核查发现"), widget=forms.Textarea(attrs={"rows": 4}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), widget=forms.Textarea(attrs={"rows": 3}))


def unit_type_choices() -> list[tuple[str, str]]:
    return [(code, f"{code} {u.name_zh}") for code, u in market_rules().ledger.unit_types.items()]


class SurrenderForm(forms.Form):
    year = forms.IntegerField(label=_("履约年度"), **YEARS)
    unit_type = forms.ChoiceField(label=_("品种"))
    vintage = forms.IntegerField(label=_("配额/减排量年度"), **YEARS)
    amount = forms.IntegerField(label=_("数量（吨）"), min_value=1, max_value=10**12)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit_type"].choices = unit_type_choices()


class TransferForm(SurrenderForm):
    to_account = forms.CharField(label=_("转入账户代码"), max_length=40)
    note = forms.CharField(label=_("说明"), required=False, max_length=500)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["year"]


class ActionForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("处理"), choices=[c for c in ActionKind.choices if c[0] != ActionKind.REFUSED]
    )
    amount = forms.DecimalField(
        label=_("金额或数量"), required=False, max_digits=16, decimal_places=2, min_value=0
    )
    text = forms.CharField(label=_("处理内容"), widget=forms.Textarea(attrs={"rows": 3}))
    basis = forms.CharField(label=_("依据"), required=False, max_length=200)


class IssueForm(forms.Form):
    amount = forms.IntegerField(
        label=_("签发至省级账户的配额（吨）"), min_value=1, max_value=10**12
    )
    note = forms.CharField(label=_("依据（文件、批次）"), max_length=500)


class MonthForm(forms.Form):
    year = forms.IntegerField(label=_("年度"), **YEARS)
    month = forms.IntegerField(label=_("月份"), min_value=1, max_value=12)
    fuel_co2_t = forms.DecimalField(label=_("化石燃料燃烧排放（tCO2）"), **POSITIVE)
    process_co2e_t = forms.DecimalField(
        label=_("工业过程排放（tCO2e）"), required=False, **POSITIVE
    )
