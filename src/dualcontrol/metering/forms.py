"""Forms of the monitoring pages: registry rows, manual monthly entry, 报备, gap explanation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from dualcontrol.metering.models import (
    Boundary,
    DataItem,
    DataSource,
    Frequency,
    MeteringInstrument,
)
from dualcontrol.metering.services import InstrumentInput, ItemInput


class ItemForm(forms.Form):
    code = forms.CharField(label=_("采集数据项编码（16 位）"), min_length=16, max_length=16)
    frequency = forms.TypedChoiceField(label=_("采集频率"), choices=Frequency.choices, coerce=int)
    name = forms.CharField(label=_("采集数据项指标名称"), max_length=128)
    interval_minutes = forms.IntegerField(
        label=_("实时采集间隔（分钟）"), required=False, initial=15
    )
    interval_grant = forms.CharField(label=_("放宽采集间隔的依据"), required=False, max_length=255)
    source = forms.TypedChoiceField(
        label=_("数据采集来源"), choices=DataSource.choices, coerce=int, initial=DataSource.METER
    )
    unit = forms.CharField(label=_("能源单位（空 = 编码默认单位）"), required=False, max_length=32)
    min_value = forms.FloatField(label=_("数据最小值（空 = 不预警）"), required=False)
    max_value = forms.FloatField(label=_("数据最大值（空 = 不预警）"), required=False)
    is_reported = forms.BooleanField(label=_("是否上报"), required=False, initial=True)
    boundary = forms.ChoiceField(label=_("平衡角色"), choices=Boundary.choices, required=False)
    instrument_number = forms.CharField(label=_("计量器具编号"), required=False, max_length=64)
    system_name = forms.CharField(label=_("采集系统名称"), required=False, max_length=128)
    active = forms.BooleanField(label=_("启用"), required=False, initial=True)
    active_from = forms.DateField(label=_("启用日期"), required=False)

    def to_input(self) -> ItemInput:
        d: dict[str, Any] = dict(self.cleaned_data)
        d["boundary"] = d.get("boundary") or ""
        return ItemInput(**d)

    @classmethod
    def initial_of(cls, item: DataItem) -> dict[str, Any]:
        return {
            **{f: getattr(item, f) for f in cls.base_fields if hasattr(item, f)},
            "instrument_number": item.instrument.number if item.instrument else "",
        }


class InstrumentForm(forms.Form):
    number = forms.CharField(label=_("计量器具编号"), max_length=64)
    name = forms.CharField(label=_("计量器具名称"), max_length=128)
    grade = forms.TypedChoiceField(
        label=_("器具等级"), choices=MeteringInstrument.Grade.choices, coerce=int
    )
    kind = forms.CharField(label=_("计量器具类型代码"), required=False, max_length=8)
    accuracy_class = forms.CharField(label=_("准确度等级"), required=False, max_length=32)
    calibration_status = forms.ChoiceField(
        label=_("检定/校准状态"), choices=MeteringInstrument.Calibration.choices, required=False
    )
    last_calibration = forms.DateField(label=_("最近检定/校准日期"), required=False)
    next_calibration = forms.DateField(label=_("下次检定/校准日期"), required=False)
    location = forms.CharField(label=_("安装地点"), required=False, max_length=128)
    status = forms.TypedChoiceField(
        label=_("目前状态"), choices=MeteringInstrument.Status.choices, coerce=int, initial=1
    )

    def to_input(self, existing: MeteringInstrument | None = None) -> InstrumentInput:
        base: dict[str, Any] = {}
        if existing is not None:
            base = {
                k: getattr(existing, k)
                for k in InstrumentInput.__dataclass_fields__
                if hasattr(existing, k)
            }
        base.update(self.cleaned_data)
        return InstrumentInput(**base)


class ManualForm(forms.Form):
    """手工填报 of a monthly item."""

    item = forms.ModelChoiceField(label=_("月数据项"), queryset=DataItem.objects.none())
    month = forms.CharField(label=_("月份（YYYY-MM）"), max_length=7)
    value = forms.FloatField(label=_("数值"))

    def __init__(self, *args: Any, entity: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = DataItem.objects.filter(  # type: ignore[attr-defined]
            entity=entity, frequency=Frequency.MONTHLY, active=True
        )

    def clean_month(self) -> dt.date:
        text = self.cleaned_data["month"]
        try:
            y, m = (int(x) for x in text.split("-"))
            return dt.date(y, m, 1)
        except ValueError as exc:
            raise forms.ValidationError(_("月份格式应为 YYYY-MM")) from exc


class FaultForm(forms.Form):
    started = forms.DateTimeField(label=_("故障开始时间"))
    expected_repair = forms.DateField(label=_("预计修复日期"))
    reason = forms.CharField(
        label=_("故障原因及处理措施"), widget=forms.Textarea(attrs={"rows": 3})
    )
    items = forms.ModelMultipleChoiceField(
        label=_("涉及数据项（不选 = 整个接入端）"), queryset=DataItem.objects.none(), required=False
    )
    manual_filing = forms.BooleanField(
        label=_("故障期间定期手工填报"), required=False, initial=True
    )

    def __init__(self, *args: Any, entity: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["items"].queryset = DataItem.objects.filter(entity=entity)  # type: ignore[attr-defined]


class ReviewForm(forms.Form):
    note = forms.CharField(
        label=_("审核意见（退回时必填）"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class CloseForm(forms.Form):
    repaired_at = forms.DateTimeField(label=_("修复时间"))


class ExplanationForm(forms.Form):
    product_code = forms.CharField(widget=forms.HiddenInput)
    text = forms.CharField(
        label=_("差异说明"), widget=forms.Textarea(attrs={"rows": 2, "cols": 40})
    )
