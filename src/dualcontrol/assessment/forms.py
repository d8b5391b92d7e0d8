"""Forms of the assessment pages (row scores are read from the POST by key, see views)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dualcontrol.assessment.models import ScoringSheet


class RoundForm(forms.Form):
    year = forms.IntegerField(label=_("考核年度"), min_value=2000, max_value=2100)
    sheet = forms.ModelChoiceField(label=_("计分表"), queryset=ScoringSheet.objects.none())
    title = forms.CharField(label=_("名称（可空，自动生成）"), max_length=255, required=False)
    note = forms.CharField(
        label=_("说明"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args: Any, sheets: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sheet"].queryset = sheets if sheets is not None else ScoringSheet.objects.all()
        self.fields["year"].initial = timezone.localdate().year - 1


class DateForm(forms.Form):
    issued_on = forms.DateField(
        label=_("结果公告日（考核结果运用的期限由此起算）"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), widget=forms.Textarea(attrs={"rows": 2}))


class EvidenceForm(forms.Form):
    item_key = forms.CharField(widget=forms.HiddenInput)
    file = forms.FileField(label=_("佐证材料"))
    description = forms.CharField(label=_("说明"), max_length=255, required=False)


class CertifyForm(forms.Form):
    saving_tce = forms.DecimalField(
        label=_("核定节能量（吨标准煤）"), max_digits=16, decimal_places=2
    )
    source = forms.CharField(label=_("核定依据（如核查报告编号）"), max_length=255)


class InterviewForm(forms.Form):
    held_on = forms.DateField(
        label=_("约谈日期（已约谈）"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    due_on = forms.DateField(
        label=_("或计划日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(
        label=_("约谈纪要"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class RespondForm(forms.Form):
    text = forms.CharField(label=_("整改情况"), widget=forms.Textarea(attrs={"rows": 3}))
    file = forms.FileField(label=_("整改报告（可选）"), required=False)


class CloseForm(forms.Form):
    note = forms.CharField(label=_("办结说明"), widget=forms.Textarea(attrs={"rows": 2}))
    closed_on = forms.DateField(
        label=_("办结日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
