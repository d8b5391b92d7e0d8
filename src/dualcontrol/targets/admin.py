"""Admin: barometer rule sets are edited here (as YAML, validated by the rule-set loader);
targets and statistics can be corrected; warnings, alerts, decompositions and letters are
read-only records.  Every admin write is audited (AuditedAdmin)."""

from __future__ import annotations

import hashlib
from typing import Any

import yaml
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from dualcontrol.audit.admin import AuditedAdmin
from dualcontrol.audit.services import record, snapshot
from dualcontrol.targets.models import (
    Alert,
    Decomposition,
    RegionalStatistic,
    ResponsibilityLetter,
    Target,
    WarningRecord,
    WarningRuleSet,
)


class RuleSetForm(forms.ModelForm):
    definition_yaml = forms.CharField(
        label=_("规则定义（YAML，与 reference/data/warning_*.yaml 相同结构）"),
        widget=forms.Textarea(attrs={"rows": 30, "cols": 100, "style": "font-family:monospace"}),
    )

    class Meta:
        model = WarningRuleSet
        fields = ["name", "title_zh", "source", "compares_with", "is_default", "active"]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.definition:
            self.fields["definition_yaml"].initial = yaml.safe_dump(
                self.instance.definition, allow_unicode=True, sort_keys=False
            )

    def _update_errors(self, errors: ValidationError) -> None:
        # the model names its ``definition``; the form shows it on the YAML field
        if hasattr(errors, "error_dict") and "definition" in errors.error_dict:
            d = dict(errors.error_dict)
            d["definition_yaml"] = d.get("definition_yaml", []) + d.pop("definition")
            errors = ValidationError(d)
        super()._update_errors(errors)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        text = data.get("definition_yaml") or ""
        try:
            parsed = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValidationError({"definition_yaml": f"YAML: {exc}"}) from exc
        if not isinstance(parsed, dict):
            raise ValidationError({"definition_yaml": _("规则定义必须是 YAML 映射")})
        name = data.get("name") or self.instance.name
        parsed["name"] = name
        parsed.setdefault("title_zh", data.get("title_zh") or name)
        parsed.setdefault("source", data.get("source") or "admin")
        self.instance.name = name
        self.instance.definition = parsed
        self.instance.version = f"admin:{name}@{hashlib.sha256(text.encode()).hexdigest()[:12]}"
        try:
            self.instance.clean()  # the rule-set loader's validation, shown on the YAML field
        except ValidationError as exc:
            raise ValidationError({"definition_yaml": exc.messages}) from exc
        return data


@admin.register(WarningRuleSet)
class WarningRuleSetAdmin(AuditedAdmin):
    form = RuleSetForm
    list_display = (
        "name",
        "title_zh",
        "version",
        "compares_with",
        "is_builtin",
        "is_default",
        "active",
    )
    list_filter = ("is_builtin", "active")
    actions = ["copy_rule_set"]

    def get_readonly_fields(self, request: Any, obj: Any = None) -> tuple[str, ...]:
        return ("name",) if obj is not None and obj.is_builtin else ()

    def save_model(self, request: Any, obj: WarningRuleSet, form: Any, change: bool) -> None:
        if obj.is_builtin and change and "definition_yaml" in form.changed_data:
            obj.is_builtin = False  # an edited preset is no longer the shipped file
        if obj.is_default:
            for other in WarningRuleSet.objects.filter(is_default=True).exclude(pk=obj.pk):
                before = snapshot(other, ["is_default"])
                other.is_default = False
                other.save(update_fields=["is_default"])
                record(
                    actor=request.user,
                    action="admin.change",
                    obj=other,
                    before=before,
                    after=snapshot(other, ["is_default"]),
                )
        super().save_model(request, obj, form, change)

    @admin.action(description=_("复制为新的规则集（可编辑）"))
    def copy_rule_set(self, request: Any, queryset: Any) -> None:
        for rs in queryset:
            name = f"{rs.name}-copy"
            n = 1
            while WarningRuleSet.objects.filter(name=name).exists():
                n += 1
                name = f"{rs.name}-copy{n}"
            definition = {**rs.definition, "name": name}
            copy = WarningRuleSet(
                name=name,
                title_zh=f"{rs.title_zh}（副本）",
                source=rs.source,
                definition=definition,
                version=f"admin:{name}@{rs.version}",
                compares_with=rs.compares_with,
                is_builtin=False,
                is_default=False,
                active=False,
            )
            copy.full_clean()
            copy.save()
            record(actor=request.user, action="admin.add", obj=copy, after=snapshot(copy))
        messages.success(request, _("已复制；副本默认停用，编辑后启用。"))


@admin.register(Target)
class TargetAdmin(AuditedAdmin):
    list_display = (
        "__str__",
        "indicator",
        "period_kind",
        "base_year",
        "end_year",
        "base_value",
        "incentive_value",
        "unit",
        "status",
        "is_synthetic",
    )
    list_filter = ("indicator", "period_kind", "status", "is_synthetic", "barometer")
    search_fields = ("division__name", "entity__name", "source_document")
    raw_id_fields = ("division", "entity", "parent", "industry", "decomposition")


@admin.register(RegionalStatistic)
class RegionalStatisticAdmin(AuditedAdmin):
    list_display = (
        "division",
        "year",
        "month",
        "quarter",
        "energy_tce",
        "gdp_10k_yuan",
        "gdp_real_growth_pct",
        "is_synthetic",
    )
    list_filter = ("year", "is_synthetic")
    search_fields = ("division__name", "division__code")
    raw_id_fields = ("division",)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(WarningRecord)
class WarningRecordAdmin(ReadOnlyAdmin):
    list_display = (
        "division",
        "year",
        "month",
        "indicator",
        "level_name",
        "rule_set_name",
        "required",
        "achieved",
        "gap",
    )
    list_filter = ("indicator", "colour", "rule_set_name", "year")
    search_fields = ("division__name",)


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ("created", "recipient", "subject", "read_at", "emailed_to", "emailed_at")
    search_fields = ("subject", "recipient__username")


@admin.register(Decomposition)
class DecompositionAdmin(ReadOnlyAdmin):
    list_display = (
        "parent_target",
        "method",
        "intensity_slack_pp",
        "total_slack_tce",
        "is_current",
        "adopted_at",
    )


@admin.register(ResponsibilityLetter)
class ResponsibilityLetterAdmin(ReadOnlyAdmin):
    list_display = ("number", "title", "status", "signed_on")
    list_filter = ("status",)
