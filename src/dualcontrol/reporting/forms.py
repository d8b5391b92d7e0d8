"""Forms of the 205-1 web entry: the period, one line form per energy product, the upload."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from dualcontrol.core.report205 import COLUMNS, QUANTITY_FIELDS, Row205
from dualcontrol.reporting.models import EnergyProduct, PeriodType

NUMBER_FIELDS = (*QUANTITY_FIELDS, "coefficient_used")
LABELS = {f: (col, zh, en) for f, col, zh, en in COLUMNS}


class PeriodForm(forms.Form):
    period_type = forms.ChoiceField(
        label=_("报表类型"), choices=PeriodType.choices, initial=PeriodType.MONTHLY
    )
    year = forms.IntegerField(label=_("年份"), min_value=2000, max_value=2100)
    month = forms.IntegerField(label=_("月份"), min_value=1, max_value=12, required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        today = timezone.localdate()
        self.fields["year"].initial = today.year if today.month > 1 else today.year - 1
        self.fields["month"].initial = today.month - 1 if today.month > 1 else 12


class LineForm(forms.Form):
    """One energy product's row; all cells optional (an empty row is not reported)."""

    def __init__(self, product: EnergyProduct, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("prefix", f"p{product.code}")
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.product = product
        english = (get_language() or "").startswith("en")
        for name in NUMBER_FIELDS:
            col, zh, en = LABELS[name]
            title = en if english else zh
            self.fields[name] = forms.DecimalField(
                label=f"{col} {title}",
                required=False,
                max_digits=18,
                decimal_places=6,
                widget=forms.TextInput(
                    attrs={
                        "inputmode": "decimal",
                        "size": 8,
                        "aria-label": f"{product.name_en if english else product.name_zh} {title}",
                    }
                ),
            )

    def is_blank(self) -> bool:
        return all(self.cleaned_data.get(f) in (None, "") for f in NUMBER_FIELDS)

    def to_row(self) -> Row205:
        values = {f: self.cleaned_data.get(f) or Decimal(0) for f in QUANTITY_FIELDS}
        return Row205(
            product_code=self.product.code,
            product_name=self.product.name_zh,
            unit=self.product.unit,
            coefficient_used=self.cleaned_data.get("coefficient_used"),
            **values,
        )


class UploadForm(PeriodForm):
    file = forms.FileField(label=_("205-1 表文件（.xlsx 或 .csv）"))
    submit_now = forms.BooleanField(label=_("上传后直接提交审核"), required=False)


class ReturnForm(forms.Form):
    reason = forms.CharField(
        label=_("退回原因"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
