"""Forms of plan-task tracking: upload and confirm a plan, deadlines, progress filing, merge."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dualcontrol.regions.models import Department, Division
from dualcontrol.tasks.models import TaskStatus
from dualcontrol.tasks.rules import load_rules, recent_periods

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class UploadForm(forms.Form):
    file = forms.FileField(label=_("方案文件（.txt、.md、.html、.docx 或有文字层的 .pdf）"))
    division = forms.ModelChoiceField(
        label=_("所属政府（部门在此政府的部门中匹配）"), queryset=Division.objects.none()
    )

    def __init__(self, *args: Any, divisions: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["division"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = divisions if divisions is not None else Division.objects.none()
        field.empty_label = None


class ConfirmForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)
    title = forms.CharField(label=_("方案名称"), max_length=255)
    issuing_body = forms.CharField(label=_("印发机关"), max_length=128, required=False)
    period_start = forms.IntegerField(
        label=_("起始年"), min_value=1949, max_value=2100, required=False
    )
    period_end = forms.IntegerField(
        label=_("终止年"), min_value=1949, max_value=2100, required=False
    )
    tracking_start = forms.DateField(label=_("跟踪起始日期"), widget=DATE)
    default_deadline = forms.DateField(
        label=_("统一完成期限（未写明年份的任务）"), widget=DATE, required=False
    )
    deadlines_from_text = forms.BooleanField(
        label=_("任务文字写明目标年份的，以该年年底为期限"), required=False, initial=True
    )
    office = forms.ModelChoiceField(
        label=_("方案办公室（负责跟踪的部门）"), queryset=Department.objects.none(), required=False
    )

    def __init__(self, *args: Any, offices: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["office"]
        assert isinstance(field, forms.ModelChoiceField)
        if offices is None:
            del self.fields["office"]
        else:
            field.queryset = offices

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and start > end:
            self.add_error("period_end", _("终止年早于起始年。"))
        return data


class TaskEditForm(forms.Form):
    deadline = forms.DateField(label=_("完成期限"), widget=DATE, required=False)
    status = forms.ChoiceField(label=_("状态"), choices=TaskStatus.choices)
    note = forms.CharField(label=_("说明"), max_length=500, required=False)


class DeadlinesForm(forms.Form):
    deadline = forms.DateField(label=_("完成期限"), widget=DATE, required=False)
    only_missing = forms.BooleanField(label=_("只设定尚无期限的任务"), required=False)


class ProgressForm(forms.Form):
    department = forms.ModelChoiceField(label=_("报送部门"), queryset=Department.objects.none())
    period = forms.ChoiceField(label=_("报送期"))
    percent_complete = forms.IntegerField(label=_("完成进度（%）"), min_value=0, max_value=100)
    narrative = forms.CharField(
        label=_("进展情况"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000
    )
    blocked = forms.BooleanField(label=_("推进受阻（需要协调）"), required=False)
    evidence = forms.FileField(label=_("佐证材料（可选）"), required=False)

    def __init__(self, *args: Any, departments: list[Department], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["department"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Department.objects.filter(pk__in=[d.pk for d in departments])
        field.empty_label = None
        if departments:
            field.initial = departments[0].pk
        rules = load_rules()
        periods = recent_periods(timezone.localdate(), rules.period_kind, rules.past_periods)
        period = self.fields["period"]
        assert isinstance(period, forms.ChoiceField)
        period.choices = [(p, p) for p in periods]
        period.initial = periods[0]
        evidence = self.fields["evidence"]
        evidence.help_text = _("%(types)s，不超过 %(mb)s MB") % {
            "types": "、".join(rules.evidence_extensions),
            "mb": rules.evidence_max_bytes // (1024 * 1024),
        }
        evidence.widget.attrs["accept"] = ",".join(f".{e}" for e in rules.evidence_extensions)


class MergeForm(forms.Form):
    into = forms.ModelChoiceField(label=_("合并到"), queryset=Department.objects.none())

    def __init__(self, *args: Any, source: Department, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["into"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Department.objects.filter(division_id=source.division_id).exclude(
            pk=source.pk
        )
