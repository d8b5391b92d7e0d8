"""Forms of the monitoring configuration pages (validation proper lives in services)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from dualcontrol.entities.models import Entity
from dualcontrol.monitoring.models import DataType, LimitField, OutletKind, ShutdownKind
from dualcontrol.reference.hj212 import hj212_tables


def pollutant_choices() -> list[tuple[str, str]]:
    return [(code, f"{code} {name}") for code, name in sorted(hj212_tables().pollutants.items())]


class OutletForm(forms.Form):
    entity = forms.ModelChoiceField(queryset=Entity.objects.none(), label=_("排污单位"))
    mn = forms.CharField(label=_("数采仪编码（MN）"), max_length=24)
    name = forms.CharField(label=_("排放口名称"), max_length=128)
    kind = forms.ChoiceField(label=_("类型"), choices=OutletKind.choices)
    permit_number = forms.CharField(label=_("排污许可证编号"), max_length=32, required=False)
    connected_on = forms.DateField(
        label=_("联网日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    active = forms.BooleanField(label=_("在用"), required=False, initial=True)
    note = forms.CharField(label=_("备注"), max_length=255, required=False)
    # Never rendered back (masked); on the edit page blank keeps the registered one.
    station_password = forms.CharField(
        label=_("数采仪访问密码（PW）"),
        max_length=6,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("数采仪上传数据时携带的 PW；未登记密码的排放口的数据一律拒收。"),
    )

    def __init__(self, *args: Any, entities: Any = None, editing: bool = False, **kw: Any):
        super().__init__(*args, **kw)
        self.editing = editing
        if entities is not None:
            self.fields["entity"].queryset = entities  # type: ignore[attr-defined]
        if editing:
            del self.fields["entity"]
            self.fields["station_password"].required = False
            self.fields["station_password"].help_text = _("留空则保留已登记的密码。")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.editing and not data.get("station_password"):
            data.pop("station_password", None)
        return data


class LimitForm(forms.Form):
    code = forms.ChoiceField(label=_("污染物"), choices=())
    cn = forms.ChoiceField(label=_("数据类型"), choices=DataType.choices, initial=DataType.HOUR)
    field = forms.ChoiceField(label=_("比较字段"), choices=LimitField.choices, initial="Avg")
    limit_value = forms.DecimalField(label=_("限值"), max_digits=14, decimal_places=4)
    unit = forms.CharField(label=_("单位"), max_length=16)
    standard = forms.CharField(label=_("执行标准/依据"), max_length=255)
    valid_from = forms.DateField(
        label=_("生效日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_to = forms.DateField(
        label=_("失效日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kw: Any):
        super().__init__(*args, **kw)
        self.fields["code"].choices = pollutant_choices()  # type: ignore[attr-defined]


class RangeForm(forms.Form):
    code = forms.ChoiceField(label=_("污染物"), choices=())
    low = forms.DecimalField(label=_("量程下限"), max_digits=14, decimal_places=4, initial=0)
    high = forms.DecimalField(label=_("量程上限"), max_digits=14, decimal_places=4)
    unit = forms.CharField(label=_("单位"), max_length=16)

    def __init__(self, *args: Any, **kw: Any):
        super().__init__(*args, **kw)
        self.fields["code"].choices = pollutant_choices()  # type: ignore[attr-defined]


class ExplainForm(forms.Form):
    text = forms.CharField(
        label=_("原因及处理情况"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("例如：设备故障已于何时修复、超标原因及整改措施、停运期间等。"),
    )


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("意见"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class ShutdownForm(forms.Form):
    kind = forms.ChoiceField(label=_("停运类型"), choices=ShutdownKind.choices)
    started_at = forms.DateTimeField(
        label=_("停运开始时间"), widget=DATETIME_INPUT, input_formats=DATETIME_FORMATS
    )
    ended_at = forms.DateTimeField(
        label=_("停运结束时间（计划或实际）"), widget=DATETIME_INPUT, input_formats=DATETIME_FORMATS
    )
    reason = forms.CharField(
        label=_("停运原因"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    document = forms.FileField(label=_("证明材料（盖章的停运说明、批复等）"))
